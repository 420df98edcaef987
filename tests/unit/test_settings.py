import pytest

from ferry.settings import Settings, SettingsError


def test_defaults_apply_when_only_the_table_is_given() -> None:
    settings = Settings.from_env({"FERRY_TABLE_NAME": "ferry-dev"})
    assert settings.quota_limit_bytes == 209_715_200
    assert settings.stage == "dev"


def test_missing_variable_is_named() -> None:
    with pytest.raises(SettingsError, match="FERRY_TABLE_NAME"):
        Settings.from_env({"FERRY_STAGE": "dev"})


@pytest.mark.parametrize(
    ("name", "value"), [("FERRY_QUOTA_LIMIT_BYTES", "lots"), ("FERRY_QUOTA_LIMIT_BYTES", "0"), ("FERRY_STAGE", "Prod!")]
)
def test_invalid_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"FERRY_TABLE_NAME": "ferry-dev", name: value})


def test_other_environment_is_ignored() -> None:
    assert Settings.from_env({"FERRY_TABLE_NAME": "t-1", "PATH": "/bin"}).table_name == "t-1"


def test_allowed_networks_must_parse() -> None:
    ok = Settings.from_env({"FERRY_TABLE_NAME": "t-1", "FERRY_URL_ALLOWED_NETWORKS": "10.1.0.0/16, fd12::/48"})
    assert ok.url_allowed_networks.startswith("10.1")
    with pytest.raises(SettingsError, match="FERRY_URL_ALLOWED_NETWORKS"):
        Settings.from_env({"FERRY_TABLE_NAME": "t-1", "FERRY_URL_ALLOWED_NETWORKS": "10.1.0.0/33"})
