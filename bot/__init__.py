"""scrollcheck: the gateway, safety layer, content loaders and tools around the Rasa assistant."""
from pathlib import Path

# The repository root; content YAML lives under it in data/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
