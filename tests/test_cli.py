import json
from pathlib import Path

import pytest

from dedupe.cli import main
from tests.conftest import REPO, SEEDS


@pytest.fixture
def seeds() -> str:
    if not SEEDS.exists():
        pytest.skip("../shared/seeds not present")
    return str(SEEDS)


def test_text_report_on_seeds(seeds: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", seeds, "-q"]) == 0
    out, err = capsys.readouterr()
    assert "Cluster 1 (c" in out and "2 articles" in out
    assert "000_99ffd495cf952c86" in out and "002_75e794566d12b039" in out
    assert "Summary: 5 articles read, 0 rejected, 2 clustered in 1 cluster, 3 not clustered" in out
    assert err == ""


def test_text_report_fits_120_columns_with_long_ids_and_titles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = (
        "The central bank raised its benchmark interest rate by half a percentage point on "
        "Thursday, its third increase this year, as food and fuel prices kept inflation "
        "well above the target range set by the government for the coming budget year. "
    ) * 3
    title = "A very long headline about the central bank and its decision " * 4
    records = [
        {
            "id": f"https://news.example.org/{year}/economy/central-bank-raises-rates-{n}",
            "outlet": f"An Outlet With A Rather Long Name Number {n}",
            "title": title,
            "text": story + f"Local reaction {n}.",
        }
        for n, year in ((1, 2026), (2, 2025))
    ]
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert main(["cluster", str(path), "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 120
    header = next(i for i, line in enumerate(lines) if "PUBLISHED" in line)
    first, first_title, second = lines[header + 1 : header + 4]
    assert first.split()[0] == "1" and first.endswith("#2")
    assert first_title.strip().startswith("A very long headline about the central bank")
    assert second.split()[0] == "2" and second.endswith("#1")


def test_json_report_is_complete_and_deterministic(
    seeds: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cluster", seeds, "--format", "json", "-o", str(tmp_path / "a.json"), "-q"]) == 0
    assert main(["cluster", seeds, "--format", "json", "-q"]) == 0
    out, _ = capsys.readouterr()
    report = json.loads(out)
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == out
    assert report["schema_version"] == 1
    assert report["summary"] == {
        "articles_read": 5,
        "rejected": 0,
        "clustered": 2,
        "clusters": 1,
        "not_comparable": 0,
        "warnings": 0,
    }
    (cluster,) = report["clusters"]
    assert {m["id"] for m in cluster["members"]} == {"000_99ffd495cf952c86", "002_75e794566d12b039"}
    assert {"id", "outlet", "containment", "cosine", "jaccard"} <= set(cluster["members"][0])
    assert {"jaccard", "cosine", "containment"} <= set(report["pairs"][0])
    assert report["config"]["verify"]["containment_threshold"] == 0.2


def test_csv_pairs(seeds: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", seeds, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0]
        == "cluster_id,left_id,right_id,jaccard,containment,cosine,shared_shingles,verified"
    )
    assert len(lines) == 2 and lines[1].startswith("c")


def test_rejects_are_counted_and_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "some words here"}\n{"id": "b"}\nnot json\n', "utf-8")
    assert main(["cluster", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "1 article read, 2 rejected" in out
    assert f"Rejected: {path}:2: missing text field 'text'" in out
    assert f"Rejected: {path}:3: invalid JSON" in out


def test_nothing_usable_is_a_runtime_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("garbage\n", "utf-8")
    assert main(["cluster", str(path)]) == 1
    assert "no usable articles" in capsys.readouterr().err


def test_a_folder_of_unknown_suffixes_says_how_to_read_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = (
        "A chuva forte que caiu sobre a capital na noite de domingo deixou três bairros "
        "sem energia e obrigou a prefeitura a abrir abrigos para cento e vinte famílias, "
        "segundo a defesa civil, que prevê mais chuva até quarta-feira."
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.seg").write_text(story, "utf-8")
    (corpus / "b.seg").write_text("Rio - " + story + " A escola municipal fechou.", "utf-8")
    assert main(["cluster", str(corpus)]) == 1
    err = capsys.readouterr().err
    assert "(2 rejected); files of unknown type: 2 .seg" in err
    assert "--readers-extra-text-suffixes .seg" in err
    index = str(tmp_path / "news.idx")
    assert main(["index", "add", index, str(corpus)]) == 0
    err = capsys.readouterr().err
    assert "0 added, 0 already in the index, 2 rejected; files of unknown type: 2 .seg" in err
    assert main(["cluster", str(corpus), "-q", "--readers-extra-text-suffixes", ".seg"]) == 0
    out = capsys.readouterr().out
    assert "Cluster 1" in out and "2 articles" in out


def test_many_files_of_one_unknown_suffix_are_named_a_few_times_then_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(7):
        (corpus / f"d{i}.txt.seg").write_text(f"Texto {i}.", "utf-8")
    (corpus / "notes.md").write_text("# notes", "utf-8")
    (corpus / "bad.jsonl").write_text('{"id": "x"}\n', "utf-8")
    assert main(["index", "add", str(tmp_path / "n.idx"), str(corpus)]) == 0
    assert "0 added, 0 already in the index, 9 rejected" in capsys.readouterr().err
    assert main(["index", "check", str(tmp_path / "n.idx"), str(corpus)]) == 0
    err = capsys.readouterr().err
    named = [line for line in err.splitlines() if "unsupported file type '.seg'" in line]
    assert len(named) == 3 and "d0.txt.seg" in named[0]
    assert "rejected 4 more .seg files: unsupported file type" in err
    # Other rejects are each named as before: nothing is folded but unknown suffixes.
    assert "notes.md: unsupported file type '.md'" in err
    assert "bad.jsonl" in err
    assert "0 articles checked, 9 rejected; files of unknown type: 7 .seg, 1 .md" in err


def test_list_keys_can_be_set_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--normalize-drop-lines", "^(foo|bar){1,2}$"]) == 0
    assert "drop_lines:\n  - ^(foo|bar){1,2}$\n  strip_prefixes:" in capsys.readouterr().out
    assert main(["config", "show", "--readers-extra-text-suffixes", "[.seg, .md]"]) == 0
    assert "extra_text_suffixes:\n  - .seg\n  - .md\nnormalize:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cluster", "missing-folder"], "missing-folder: no such file or folder"),
        (["cluster", ".", "--lsh-threshold", "7"], "lsh.threshold: 7.0 is out of range"),
        (["cluster", ".", "--shingle-size", "x"], "shingle.size: expected int"),
        (["cluster", ".", "--no-such-flag"], "unrecognized arguments"),
        (["cluster"], "the following arguments are required: paths"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_config_file_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("verify:\n  containment_treshold: 0.3\n", "utf-8")
    assert main(["config", "validate", str(path)]) == 2
    assert "verify.containment_treshold" in capsys.readouterr().err
    assert main(["cluster", ".", "-c", str(path)]) == 2


def test_config_show_prints_effective_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--lsh-threshold", "0.25"]) == 0
    assert "threshold: 0.25" in capsys.readouterr().out


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("dedupe ")
    assert main(["cluster", "--help"]) == 0
    assert "examples:" in capsys.readouterr().out


def test_readme_documents_every_subcommand() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for command in (
        "dedupe cluster",
        "dedupe report",
        "dedupe report --from",
        "dedupe config show",
        "dedupe config validate",
        "dedupe filter --index",
        "dedupe index add",
        "dedupe index check",
        "dedupe index stats",
        "dedupe index prune",
        "dedupe index verify",
        "dedupe index recover",
    ):
        assert command in readme
    assert "make demo" in readme and "make test" in readme


def test_summary_counts_are_grouped_by_thousands() -> None:
    from dedupe import Article, cluster_articles
    from dedupe.config import Config
    from dedupe.reports.terminal import plural, render_text

    articles = [Article(id=f"a{i:04d}", text=f"kata{i} lain{i}") for i in range(1_200)]
    text = render_text(cluster_articles(articles), Config().report, (), None)
    assert (
        "Summary: 1,200 articles read, 0 rejected, 0 clustered in 0 clusters, "
        "1,200 not clustered (1,200 too short to compare)."
    ) in text
    assert plural(1, "cluster") == "1 cluster" and plural(66_625, "cluster") == "66,625 clusters"
