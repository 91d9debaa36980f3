"""docs/crisis-protocol.md is generated from the safety YAML and kept current (the CI check)."""

from __future__ import annotations

from bot.safety import protocol
from bot.safety.replies import acuity_question, check_question, crisis_reply
from bot.safety.result import CATEGORIES, RiskResult


def test_the_published_protocol_is_current(capsys):
    assert protocol.main(["--check"]) == 0, (
        "docs/crisis-protocol.md is not current: run `scrollcheck crisis-protocol` and commit it"
    )


def test_a_stale_or_missing_protocol_fails_the_check_with_a_clear_message(tmp_path, capsys):
    stale = tmp_path / "crisis-protocol.md"
    stale.write_text(protocol.render().replace("112", "113", 1), encoding="utf-8")
    assert protocol.main(["--check", "--output", str(stale)]) == 1
    err = capsys.readouterr().err
    assert "is not current" in err and "run `scrollcheck crisis-protocol`" in err
    assert protocol.main(["--check", "--output", str(tmp_path / "missing.md")]) == 1
    assert "is missing" in capsys.readouterr().err
    assert (
        protocol.main(["--output", str(stale)]) == 0
        and protocol.main(["--check", "--output", str(stale)]) == 0
    )


def test_the_protocol_covers_every_level_category_language_and_country():
    text = protocol.render()
    for lang in ("en", "nl"):
        assert acuity_question(lang).text in text
        for category in CATEGORIES:
            assert check_question(RiskResult("check", category), lang).text in text
        unknown = crisis_reply(RiskResult("urgent", "self_harm"), None, lang)
        assert all(message.split("\n")[0] in text for message in unknown.messages)
    for heading in (
        "(US)",
        "(GB)",
        "(NL)",
        "(BE)",
        "(IE)",
        "(DE)",
        "(CA)",
        "(AU)",
        "## Unknown country",
    ):
        assert heading in text
    for fact in (
        "Emergency: **999 or 112**",
        "Tele-Onthaal | call 106",
        "Checked on 2026-12-03",
        "112 in Europe, 911 in the US and Canada, 999 in the UK, 000 in Australia",
    ):
        assert fact in text
