from pathlib import Path

import pytest

from dedupe.config import Config, build_config, dump_config, load_config, parse_override
from dedupe.errors import ConfigError
from tests.conftest import REPO


def test_shipped_config_yaml_equals_builtin_defaults() -> None:
    assert load_config(REPO / "config.yaml") == Config()


def test_config_yaml_mentions_every_key() -> None:
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    for section, values in Config().to_dict().items():
        if isinstance(values, dict):
            for key in values:
                assert f"  {key}:" in text, f"{section}.{key} missing from config.yaml"


def test_unknown_key_names_the_dotted_path() -> None:
    with pytest.raises(ConfigError, match=r"lsh\.treshold.*allowed in lsh: threshold"):
        build_config({"lsh": {"treshold": 0.2}})


def test_unknown_section_is_refused() -> None:
    with pytest.raises(ConfigError, match="'lhs'"):
        build_config({"lhs": {}})


def test_wrong_type_names_key_and_value() -> None:
    with pytest.raises(ConfigError, match=r"shingle\.size: expected int, got str 'three'"):
        build_config({"shingle": {"size": "three"}})


def test_out_of_range_names_key_value_and_range() -> None:
    with pytest.raises(ConfigError, match=r"verify\.containment_threshold: 1\.5 is out of range"):
        build_config({"verify": {"containment_threshold": 1.5}})


def test_python_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("seed: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_dump_then_load_round_trips(tmp_path: Path) -> None:
    config = build_config({"seed": 7, "verify": {"cosine_threshold": 0.3}})
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(config), encoding="utf-8")
    assert load_config(path) == config


def test_overrides_beat_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("lsh:\n  threshold: 0.3\n", encoding="utf-8")
    config = load_config(path, {"lsh.threshold": parse_override("lsh.threshold", "0.2")})
    assert config.lsh.threshold == 0.2


def test_lsh_bands_and_rows_come_from_datasketch_or_config() -> None:
    bands, rows = Config().lsh_params
    assert bands * rows <= Config().minhash.num_perm
    assert build_config({"lsh": {"bands": 16, "rows": 4}}).lsh_params == (16, 4)
    with pytest.raises(ConfigError, match=r"exceeds minhash\.num_perm"):
        build_config({"lsh": {"bands": 100, "rows": 4}})


def test_digest_changes_with_signature_settings_only() -> None:
    base = Config().digest()
    assert build_config({"seed": 2}).digest() != base
    assert build_config({"report": {"max_clusters": 3}}).digest() == base
