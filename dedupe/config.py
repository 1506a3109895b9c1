"""Typed configuration: one frozen dataclass per ``config.yaml`` section.

Precedence is defaults < file < overrides (the CLI's ``--section-key`` flags). Unknown keys,
wrong types and out-of-range values raise ``ConfigError`` naming the dotted key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from dedupe.errors import ConfigError

_DEFAULT_DROP_LINES: tuple[str, ...] = (
    # Indonesian link/promo/credit lines
    r"^(baca|simak|lihat|cek|tonton) (juga|pula|selengkapnya)\b",
    r"^baca\s*:",
    r"^berita (lain )?terkait\b",
    r"^artikel terkait\b",
    r"^(editor|penulis|pewarta|reporter|penyunting|redaktur|sumber|foto|video)\s*:",
    r"^(ikuti|follow) (kami|us)\b",
    r"^dapatkan (update|informasi|berita)\b",
    r"^(klik|click) (di sini|here)\b",
    r"^scroll (ke bawah|to continue)\b",
    # English
    r"^(read|see) (also|more)\b",
    r"^also read\b",
    r"^related( articles?| stories| coverage)?\s*:",
    r"^\(?(reporting|writing|editing|additional reporting|compiled) by\b",
    r"^by [\w.'\- ]{2,60}$",
    r"^(copyright|©|\(c\) )",
    r"^all rights reserved\b",
    r"^advertisement$",
    r"^(share|tweet|email) (this|on)\b",
    r"^sign up (for|to)\b",
    # Portuguese
    r"^(leia|veja) (também|mais)\b",
    r"^(reportagem|edição|texto) (de|por)\b",
)

_DEFAULT_STRIP_PREFIXES: tuple[str, ...] = (
    # Datelines with a wire credit: "JAKARTA (Reuters) -", "(ANTARA) -"
    r"^[\w .,/'-]{0,40}\((reuters|afp|ap|antara|bernama|xinhua|dpa|efe|ansa|upi)\)\s*-\s*",
    # Outlet datelines: "KONTAN.CO.ID - ", "TribuneNews.com - "
    r"^[\w.-]{2,40}\.(com|co\.id|id|net|org|co\.uk|com\.br|news)\s*-\s*",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadersConfig:
    """How input records are read and which fields hold what."""

    id_field: str = "id"
    text_field: str = "text"
    outlet_field: str = "outlet"
    title_field: str = "title"
    url_field: str = "url"
    published_field: str = "published"
    encoding: str = "auto"
    # Corpora come as ``.seg``, ``.story``, ``.md``...: these are read like ``.txt`` in a folder.
    extra_text_suffixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("id_field", "text_field"):
            if not getattr(self, name):
                raise ConfigError(f"readers.{name} must not be empty")
        from dedupe.readers import SUPPORTED  # here: the readers import this module

        for suffix in self.extra_text_suffixes:
            if not re.fullmatch(r"\.[^./\\\s]+", suffix):
                raise ConfigError(
                    f"readers.extra_text_suffixes: {suffix!r} is not a file suffix "
                    "(a dot and a name without dots, slashes or spaces, like '.seg')"
                )
            if suffix.lower() in SUPPORTED:
                raise ConfigError(
                    f"readers.extra_text_suffixes: {suffix!r} already has its own reader"
                )
        if self.encoding != "auto":
            try:
                "".encode(self.encoding)
            except LookupError:
                raise ConfigError(
                    f"readers.encoding: unknown encoding {self.encoding!r} (use 'auto' or a "
                    "Python codec name such as 'utf-8' or 'cp1252')"
                ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizeConfig:
    """Which lines and line prefixes are boilerplate (matched on the normalized line)."""

    drop_lines: tuple[str, ...] = _DEFAULT_DROP_LINES
    strip_prefixes: tuple[str, ...] = _DEFAULT_STRIP_PREFIXES

    def __post_init__(self) -> None:
        for name in ("drop_lines", "strip_prefixes"):
            for i, pattern in enumerate(getattr(self, name)):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(
                        f"normalize.{name}[{i}]: bad pattern {pattern!r}: {exc}"
                    ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShingleConfig:
    """Word shingles: the unit of shared wording."""

    size: int = 3
    ignore_quoted: bool = True
    min_shingles: int = 5

    def __post_init__(self) -> None:
        _check_range("shingle.size", self.size, 1, 16)
        _check_range("shingle.min_shingles", self.min_shingles, 1, 10_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class MinHashConfig:
    """MinHash signatures (datasketch's default ``affine32`` scheme)."""

    num_perm: int = 256

    def __post_init__(self) -> None:
        _check_range("minhash.num_perm", self.num_perm, 16, 4096)


@dataclass(frozen=True, slots=True, kw_only=True)
class LshConfig:
    """Banded LSH that proposes candidate pairs.

    ``bands``/``rows`` of 0 mean: let datasketch's optimiser pick them for ``threshold``.
    """

    threshold: float = 0.1
    bands: int = 0
    rows: int = 0
    max_bucket_size: int = 200

    def __post_init__(self) -> None:
        _check_range("lsh.threshold", self.threshold, 0.01, 1.0)
        _check_range("lsh.bands", self.bands, 0, 4096)
        _check_range("lsh.rows", self.rows, 0, 4096)
        if (self.bands == 0) != (self.rows == 0):
            raise ConfigError("lsh.bands and lsh.rows: set both, or leave both at 0")
        _check_range("lsh.max_bucket_size", self.max_bucket_size, 2, 1_000_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyConfig:
    """Thresholds a candidate pair must pass to count as shared wording."""

    containment_threshold: float = 0.2
    cosine_threshold: float = 0.1
    estimate_floor: float = 0.5
    max_df: float = 0.01
    max_df_min_docs: int = 100
    hash_bits: int = 22

    def __post_init__(self) -> None:
        _check_range("verify.containment_threshold", self.containment_threshold, 0.0, 1.0)
        _check_range("verify.cosine_threshold", self.cosine_threshold, 0.0, 1.0)
        _check_range("verify.estimate_floor", self.estimate_floor, 0.0, 1.0)
        _check_range("verify.max_df", self.max_df, 0.0, 1.0)
        _check_range("verify.max_df_min_docs", self.max_df_min_docs, 1, 10**9)
        _check_range("verify.hash_bits", self.hash_bits, 16, 30)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    """How verified pairs become clusters."""

    time_window_days: float = 0.0
    max_component_size: int = 5000

    def __post_init__(self) -> None:
        _check_range("cluster.time_window_days", self.time_window_days, 0.0, 36_500.0)
        _check_range("cluster.max_component_size", self.max_component_size, 2, 1_000_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportConfig:
    """What the terminal report shows."""

    max_clusters: int = 0
    title_width: int = 100

    def __post_init__(self) -> None:
        _check_range("report.max_clusters", self.max_clusters, 0, 10**9)
        _check_range("report.title_width", self.title_width, 10, 500)


_DEFAULT_WIRES: tuple[str, ...] = (
    "Reuters",
    "AFP",
    "AP",
    "Associated Press",
    "ANTARA",
    "Bloomberg",
    "Xinhua",
    "Kyodo",
    "Yonhap",
    "dpa",
    "EFE",
    "ANSA",
    "Bernama",
    "UPI",
    "Al Jazeera",
    "Agência Brasil",
    "Agência Estado",
    "Estadão Conteúdo",
    "Folhapress",
    "Lusa",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeConfig:
    """Passage attribution inside a cluster (``dedupe report``)."""

    language: str = "en"
    min_run: int = 2
    copied_threshold: float = 0.6
    near_verbatim_threshold: float = 0.8
    verbatim_threshold: float = 1.0
    quote_share: float = 0.5
    max_window: int = 3
    wires: tuple[str, ...] = _DEFAULT_WIRES

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z]{2,3}", self.language):
            raise ConfigError(
                f"attribute.language: {self.language!r} is not an ISO 639 code like 'en'"
            )
        _check_range("attribute.min_run", self.min_run, 1, 10)
        _check_range("attribute.copied_threshold", self.copied_threshold, 0.05, 1.0)
        _check_range(
            "attribute.near_verbatim_threshold",
            self.near_verbatim_threshold,
            self.copied_threshold,
            1.0,
        )
        _check_range(
            "attribute.verbatim_threshold",
            self.verbatim_threshold,
            self.near_verbatim_threshold,
            1.0,
        )
        _check_range("attribute.quote_share", self.quote_share, 0.0, 1.0)
        _check_range("attribute.max_window", self.max_window, 1, 10)
        for i, wire in enumerate(self.wires):
            if not wire.strip():
                raise ConfigError(f"attribute.wires[{i}]: empty name")


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexConfig:
    """The pre-filter index (``dedupe filter``, ``dedupe index``, ``dedupe.open_index``)."""

    near_duplicate_jaccard: float = 0.8
    max_matches: int = 10
    busy_timeout_seconds: float = 60.0
    on_redis_down: str = "fail"
    redis_retry_seconds: float = 300.0
    sqlite_mmap_mb: int = 0

    def __post_init__(self) -> None:
        _check_range("index.near_duplicate_jaccard", self.near_duplicate_jaccard, 0.0, 1.0)
        _check_range("index.max_matches", self.max_matches, 1, 10_000)
        _check_range("index.busy_timeout_seconds", self.busy_timeout_seconds, 0.0, 86_400.0)
        if self.on_redis_down not in ("fail", "wait"):
            raise ConfigError(
                f"index.on_redis_down: {self.on_redis_down!r} is not allowed; use fail or wait"
            )
        _check_range("index.redis_retry_seconds", self.redis_retry_seconds, 0.0, 86_400.0)
        _check_range("index.sqlite_mmap_mb", self.sqlite_mmap_mb, 0, 1 << 20)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendConfig:
    """Where the work runs. Results never depend on these settings.

    ``spark_state_days`` is retention, not a result setting: how many days of articles an
    incremental Spark state (``--spark-state``) keeps for later batches to be checked against.
    """

    workers: int = 0
    batch_size: int = 1000
    engine: str = "local"
    spark_master: str = "local[*]"
    spark_state_days: float = 30.0

    def __post_init__(self) -> None:
        _check_range("backend.workers", self.workers, 0, 1024)
        _check_range("backend.spark_state_days", self.spark_state_days, 0.0, 36_500.0)
        _check_range("backend.batch_size", self.batch_size, 1, 1_000_000)
        if self.engine not in ("local", "spark"):
            raise ConfigError(
                f"backend.engine: {self.engine!r} is not an engine; allowed: local, spark"
            )
        if not self.spark_master:
            raise ConfigError("backend.spark_master must not be empty (e.g. local[*])")

    @property
    def num_workers(self) -> int:
        """Worker processes to use: ``workers``, or one per available core when it is 0."""
        import os

        if self.workers:
            return self.workers
        # sched_getaffinity honours CPU limits (containers) but is Linux-only.
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1


_SECTIONS: dict[str, type[Any]] = {
    "readers": ReadersConfig,
    "normalize": NormalizeConfig,
    "shingle": ShingleConfig,
    "minhash": MinHashConfig,
    "lsh": LshConfig,
    "verify": VerifyConfig,
    "cluster": ClusterConfig,
    "report": ReportConfig,
    "attribute": AttributeConfig,
    "index": IndexConfig,
    "backend": BackendConfig,
}


@dataclass(frozen=True, kw_only=True)
class Config:
    """All settings of a run. ``Config()`` equals the shipped ``config.yaml``."""

    seed: int = 1
    readers: ReadersConfig = field(default_factory=ReadersConfig)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    shingle: ShingleConfig = field(default_factory=ShingleConfig)
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    lsh: LshConfig = field(default_factory=LshConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    attribute: AttributeConfig = field(default_factory=AttributeConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    backend: BackendConfig = field(default_factory=BackendConfig)

    def __post_init__(self) -> None:
        _check_range("seed", self.seed, 0, 2**32 - 1)
        bands, rows = self.lsh_params
        if bands * rows > self.minhash.num_perm:
            raise ConfigError(
                f"lsh.bands x lsh.rows = {bands * rows} exceeds minhash.num_perm = "
                f"{self.minhash.num_perm}"
            )

    @cached_property
    def lsh_params(self) -> tuple[int, int]:
        """(bands, rows) of the LSH: explicit, or datasketch's optimum for the threshold."""
        if self.lsh.bands:
            return self.lsh.bands, self.lsh.rows
        return _optimal_bands(self.lsh.threshold, self.minhash.num_perm)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (lists for tuples), as written to YAML and JSON."""
        out: dict[str, Any] = {"seed": self.seed}
        for name in _SECTIONS:
            section = getattr(self, name)
            out[name] = {
                f.name: list(v) if isinstance(v := getattr(section, f.name), tuple) else v
                for f in dataclasses.fields(section)
            }
        return out

    def digest(self) -> str:
        """Hash of the settings that change shingles, signatures or bands."""
        relevant = {
            "seed": self.seed,
            "normalize": self.to_dict()["normalize"],
            "shingle": self.to_dict()["shingle"],
            "num_perm": self.minhash.num_perm,
            "lsh_params": list(self.lsh_params),
        }
        blob = json.dumps(relevant, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]


@lru_cache(maxsize=64)
def _optimal_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The (bands, rows) datasketch picks for a threshold (a 0.2 s integration, done once)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def _check_range(key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{key}: {value!r} is out of range; allowed {low} to {high}")


def config_keys() -> dict[str, type[Any]]:
    """Every dotted config key with its value type (``tuple`` for pattern lists)."""
    keys: dict[str, type[Any]] = {"seed": int}
    for name, cls in _SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            keys[f"{name}.{f.name}"] = tuple if typing.get_origin(hint) is tuple else hint
    return keys


def _coerce(key: str, value: Any, kind: type[Any]) -> Any:
    """Check a YAML value against the key's type; ints are accepted where floats are."""
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    elif kind is tuple:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        kind_name = "a list of strings"
        raise ConfigError(f"{key}: expected {kind_name}, got {type(value).__name__} {value!r}")
    raise ConfigError(f"{key}: expected {kind.__name__}, got {type(value).__name__} {value!r}")


def parse_override(key: str, text: str) -> Any:
    """Turn a command-line string into the typed value of ``key``.

    Example:
        >>> parse_override("lsh.threshold", "0.2")
        0.2
    """
    kinds = config_keys()
    if key not in kinds:
        raise ConfigError(f"unknown config key {key!r}; allowed: {', '.join(sorted(kinds))}")
    kind = kinds[key]
    if kind is tuple:
        # One value is a one-item list (a pattern may hold commas, so no splitting on them);
        # several go as a YAML flow list.
        if not text.lstrip().startswith("["):
            return (text,)
        try:
            listed: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{key}: {text!r} is not a YAML list: {exc}") from None
        return _coerce(key, listed, kind)
    try:
        parsed: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        parsed = text
    if kind is str:
        parsed = text
    return _coerce(key, parsed, kind)


def build_config(data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> Config:
    """Build a ``Config`` from a nested mapping plus dotted-key overrides.

    Raises:
        ConfigError: for unknown keys, wrong types or out-of-range values.
    """
    kinds = config_keys()
    merged: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    seed: Any = None
    for top, value in data.items():
        if top == "seed":
            seed = _coerce("seed", value, int)
        elif top in _SECTIONS:
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"{top}: expected a mapping of keys, got {value!r}")
            for key, item in value.items():
                dotted = f"{top}.{key}"
                if dotted not in kinds:
                    allowed = ", ".join(f.name for f in dataclasses.fields(_SECTIONS[top]))
                    raise ConfigError(f"unknown config key {dotted!r}; allowed in {top}: {allowed}")
                merged[top][key] = _coerce(dotted, item, kinds[dotted])
        else:
            allowed = ", ".join(["seed", *_SECTIONS])
            raise ConfigError(f"unknown config key {top!r}; allowed top-level keys: {allowed}")
    for dotted, value in (overrides or {}).items():
        if dotted not in kinds:
            raise ConfigError(f"unknown config key {dotted!r}")
        value = _coerce(dotted, value, kinds[dotted])
        if dotted == "seed":
            seed = value
        else:
            top, key = dotted.split(".", 1)
            merged[top][key] = value
    sections = {name: cls(**merged[name]) for name, cls in _SECTIONS.items()}
    return Config(seed=1 if seed is None else seed, **sections)


def load_config(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Load ``config.yaml`` (safe YAML only) and apply overrides.

    Args:
        path: A YAML file, or None for the built-in defaults.
        overrides: Dotted keys to typed values, applied last.

    Raises:
        ConfigError: the file is missing, is not YAML, or has a bad key or value.
    """
    data: Any = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: config file is not UTF-8") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"{path}: not valid YAML (only plain YAML is accepted): {exc}"
            ) from None
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    try:
        return build_config(data, overrides)
    except ConfigError as exc:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(f"{where}{exc}") from None


def dump_config(config: Config) -> str:
    """YAML text that ``load_config`` reads back to an equal ``Config``."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)


__all__ = [
    "Config",
    "build_config",
    "config_keys",
    "dump_config",
    "load_config",
    "parse_override",
]
