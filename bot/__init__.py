"""scrollcheck: the gateway, safety layer, content loaders and tools around the Rasa assistant."""

from pathlib import Path

from bot.logformat import install_record_factory

# The repository root; content YAML lives under it in data/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"

# Every process that runs our code (ours, Rasa, the action server, tests) logs exceptions by type
# and stack frames only: an exception's message can quote what a young person typed.
install_record_factory()
