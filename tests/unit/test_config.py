from pathlib import Path

import pytest

from hotline.config import load_settings
from hotline.errors import ConfigError


def test_defaults_need_no_file(tmp_path: Path) -> None:
    s = load_settings({"HOTLINE_HOME": str(tmp_path)})
    assert s.console_port == 8080
    assert s.effective_db_url.startswith("sqlite+aiosqlite:///")
    assert str(tmp_path.resolve()) in s.effective_db_url


def test_toml_then_environment_override(tmp_path: Path) -> None:
    (tmp_path / "hotline.toml").write_text('console_port = 9000\nhome_district = "渝中区"\n')
    s = load_settings({"HOTLINE_HOME": str(tmp_path)})
    assert (s.console_port, s.home_district) == (9000, "渝中区")
    s = load_settings({"HOTLINE_HOME": str(tmp_path), "HOTLINE_CONSOLE_PORT": "9100",
                       "HOTLINE_DB_URL": "postgresql+asyncpg://u:p@127.0.0.1/h"})
    assert s.console_port == 9100
    assert s.effective_db_url == "postgresql+asyncpg://u:p@127.0.0.1/h"


@pytest.mark.parametrize(("env", "key", "value"), [
    ({"HOTLINE_CONSOLE_PORT": "abc"}, "HOTLINE_CONSOLE_PORT", "abc"),
    ({"HOTLINE_CONSOLE_PORT": "70000"}, "HOTLINE_CONSOLE_PORT", 70000),
    ({"HOTLINE_ARI_URL": "ftp://x"}, "HOTLINE_ARI_URL", "ftp://x"),
    ({"HOTLINE_DB_URL": "mysql://x"}, "HOTLINE_DB_URL", "mysql://x"),
    ({"HOTLINE_RING_ON_S": "-1"}, "HOTLINE_RING_ON_S", -1.0),
])
def test_bad_values_name_key_and_value(tmp_path: Path, env: dict[str, str], key: str,
                                       value: object) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"HOTLINE_HOME": str(tmp_path), **env})
    assert err.value.key == key
    assert err.value.value == value
    assert key in str(err.value)


def test_bad_toml_names_file_and_unknown_key(tmp_path: Path) -> None:
    (tmp_path / "hotline.toml").write_text("console_port = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"HOTLINE_HOME": str(tmp_path)})
    (tmp_path / "hotline.toml").write_text("consol_port = 1\n")
    with pytest.raises(ConfigError, match=r"consol_port.*unknown option"):
        load_settings({"HOTLINE_HOME": str(tmp_path)})


def test_password_not_in_repr(tmp_path: Path) -> None:
    s = load_settings({"HOTLINE_HOME": str(tmp_path), "HOTLINE_ARI_PASSWORD": "s3cret-xyz"})
    assert "s3cret-xyz" not in repr(s)


def test_emergency_lines_and_out_of_scope_reach_the_attendant(tmp_path: Path) -> None:
    from hotline.config import ConfigError
    from hotline.server.flow_settings import attendant_settings

    s = load_settings({"HOTLINE_HOME": str(tmp_path), "HOTLINE_EMERGENCY_119": "PJSIP/119@pstn",
                       "HOTLINE_EMERGENCY_120": "PJSIP/120@pstn",
                       "HOTLINE_OUT_OF_SCOPE": "推销, 成都市 ,"})
    a = attendant_settings(s)
    assert a.emergency_lines == {"119": "PJSIP/119@pstn", "120": "PJSIP/120@pstn"}
    assert a.out_of_scope == ("推销", "成都市")
    with pytest.raises(ConfigError, match="HOTLINE_EMERGENCY_110"):
        load_settings({"HOTLINE_HOME": str(tmp_path), "HOTLINE_EMERGENCY_110": "110"})
