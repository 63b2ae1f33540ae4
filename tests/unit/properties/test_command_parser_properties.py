"""The command parser takes any text without raising, and only `!` + letter is ever a command."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.services.command_parser import parse_command


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("!")
@example("!!history")
@example("! new")
@example("!\x00")
@example("!ǅ")
def test_any_text_parses_without_error_and_commands_start_with_a_letter(text: str) -> None:
    command = parse_command(text)
    if command is None:
        return
    stripped = text.strip()
    assert stripped.startswith("!") and stripped[1].isalpha()
    assert command.name == command.name.lower()
    assert " " not in command.name
    assert command.args == command.args.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=12), st.text(max_size=40))
def test_a_command_keeps_its_arguments(name: str, args: str) -> None:
    command = parse_command(f"!{name} {args}")
    assert command is not None
    assert command.args == args.strip()
