"""The README's configuration table names every setting the gateway reads."""

from pathlib import Path

from settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text()
    for name, field in Settings.model_fields.items():
        variable = (
            field.validation_alias
            if isinstance(field.validation_alias, str)
            else f"BG_{name.upper()}"
        )
        assert f"| `{variable}` |" in text, f"{variable} is missing from the README's table"
