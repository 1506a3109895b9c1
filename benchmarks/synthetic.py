"""Deterministic synthetic news corpus with known syndication truth.

The corpus imitates what a syndication detector sees in a news crawl:

* **Syndication groups** (about 30% of the articles): a wire original published by an agency
  plus 1-6 republications by other outlets. Each republication gets several seeded edits:
  news-pyramid trimming, paragraph reordering, word replacements/deletions/insertions,
  paragraphs of the outlet's own text, a new lede, an agency credit line and the outlet's
  boilerplate footer.
* **Hard negatives**: for about 10% of the groups, an independently written article about the
  same event (same named entities, numbers, topic words and one shared quotation) that must
  *not* be clustered with the group; and per-outlet boilerplate footers that unrelated
  articles of one outlet share.
* **Unrelated singletons** for the rest.

Text comes either from a seeded Zipf-distributed pseudo-language or from real Portuguese news
sentences (CSTNews) that are spliced and mutated, so that 2,000 source sentences still yield
100k stories that do not share long word runs by accident.

Speed: numpy produces text in chunks of ~130k tokens, joined once into sentence templates with
``{e3}``-style placeholders that articles consume in order; an article then costs one
``str.format_map`` with its story's names, numbers and topic words. Memory stays proportional
to the output.

Run ``python -m benchmarks.synthetic 100000 [--cstnews PATH]`` to time the generator.
"""

from __future__ import annotations

import bisect
import gc
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "WIRE_AGENCIES",
    "SyntheticCorpus",
    "generate_corpus",
    "load_cstnews_sentences",
]

IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]
_T = TypeVar("_T")

#: Wire agencies (the ``outlet`` of wire originals) and the credit lines republishers use.
#: Credits ending in ``-`` are prefixed to the lede (the first one is the agency's own
#: dateline); the others are a closing source line.
WIRE_AGENCIES: dict[str, tuple[str, ...]] = {
    "Reuters": ("(Reuters) -", "Sumber: Reuters", "REUTERS -"),
    "ANTARA": ("(ANTARA) -", "Sumber: ANTARA", "ANTARANEWS.COM -"),
    "KONTAN": ("KONTAN.CO.ID -", "Sumber: Kontan"),
    "AFP": ("(AFP) -", "Fonte: AFP"),
    "Agência Brasil": ("(Agência Brasil) -", "Fonte: Agência Brasil"),
    "Lusa": ("(Lusa) -", "Fonte: Lusa"),
}

_SECONDS_PER_HOUR = 3600
_SECONDS_PER_DAY = 86_400
_PSEUDO_VOCAB_SIZE = 50_000  # must stay below 2**16: Zipf ranks are stored as uint16
_ZIPF_CELLS = 1 << 21
# Big enough that articles rarely straddle a chunk end (the tail is then dropped), small enough
# that the numpy temporaries stay a few MB.
_CHUNK_TOKENS = 1 << 17
# Multiplier of the per-story hash that maps a slot to one of the story's values; any large odd
# constant works, this one is Knuth's multiplicative-hash constant.
_HASH_MULT = 2_654_435_761
# Separates sentences inside joined chunk text; str.split() treats it as whitespace, so no
# source token can contain it.
_SEP = "\x1f"
_SLOTS_PER_KIND = 8
_ATTRIBUTION_VERBS = ("disse", "afirmou", "declarou", "acrescentou", "explicou")


# Syllable inventory of the pseudo-language. Onsets are repeated to weight them: a plain
# consonant-vowel language reads more like news text than one full of clusters.
_ONSETS = (
    "b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "b", "c", "d", "l", "m",
    "n", "p", "r", "s", "t", "br", "pr", "tr", "cr", "gr", "ch", "lh", "nh", "qu", "",
)  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "a", "ã", "é", "ó")
_CODAS = ("", "", "", "", "", "", "s", "r", "l", "n", "m")
_SYLLABLES = tuple(o + v + c for o in _ONSETS for v in _VOWELS for c in _CODAS)

# Frequent Portuguese function words of 4+ letters: substituting them would make the text
# ungrammatical without adding any story-specific vocabulary, so they are never "content".
_PT_STOPWORDS = frozenset((
    "para", "pelo", "pela", "pelos", "pelas", "como", "mais", "entre", "sobre", "desde", "após",
    "até", "quando", "onde", "também", "ainda", "muito", "muita", "muitos", "muitas", "este",
    "esta", "estes", "estas", "isso", "esse", "essa", "esses", "essas", "aquele", "aquela", "seus",
    "suas", "dele", "dela", "deles", "delas", "outro", "outra", "outros", "outras", "segundo",
    "segunda", "cada", "todos", "todas", "nossa", "nosso", "porque", "pois", "então", "sendo",
    "será", "seria", "está", "estão", "estava", "tinha", "havia", "deve", "pode", "podem", "numa",
    "quem", "qual", "quais", "contra", "mesmo", "mesma", "disse", "afirmou", "foram", "sido",
    "nesta", "neste", "nessa", "nesse", "durante", "depois", "antes", "além", "sempre", "apenas",
    "agora",
))  # fmt: skip
# Placeholders of story values in generated text: entities, numbers, topic words.
_PLACEHOLDERS: npt.NDArray[np.object_] = np.array(
    [f"{{{letter}{i}}}" for letter in "ent" for i in range(_SLOTS_PER_KIND)], dtype=object
)
_FIELD_NAMES = tuple(f"{letter}{i}" for letter in "ent" for i in range(_SLOTS_PER_KIND))
_AFFIX_RE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class SyntheticCorpus:
    """A generated corpus with its ground truth.

    Attributes:
        records: Articles, each ``{"id", "outlet", "title", "published", "text"}``;
            ``published`` is ISO 8601 with a UTC offset. Order is shuffled with the seed.
        truth: Article id to group id. Members of a syndication group share a ``g...`` id;
            every other article maps to ``"solo-<id>"``.
        wires: Syndication group id to the id of its wire original.
        hard_negatives: Id of each "same event, independent wording" article to the group id
            of the story it imitates (its own truth group is still ``solo-<id>``).
    """

    records: list[dict[str, str]]
    truth: dict[str, str]
    wires: dict[str, str] = field(default_factory=dict)
    hard_negatives: dict[str, str] = field(default_factory=dict)


def load_cstnews_sentences(root: Path) -> list[str]:
    """Read the CSTNews source sentences.

    Args:
        root: The ``texts`` folder of the CSTNews copy (``.../cstnews-cst/texts``) or its parent
            ``cstnews-cst`` folder.

    Returns:
        The sentences (one per line in the ``*.seg`` files, Windows-1252 with CRLF), stripped,
        without empty lines and without exact repeats (CSTNews outlets sometimes copy sentences
        verbatim, and repeats would only skew sampling), in file-name then line order.
        An empty list when the folder does not exist.
    """
    folder = root / "texts" if (root / "texts").is_dir() else root
    if not folder.is_dir():
        return []
    seen: dict[str, None] = {}
    for path in sorted(folder.glob("*.seg")):
        # "replace" rather than "strict": one stray byte must not hide 2,000 good sentences.
        text = path.read_bytes().decode("cp1252", errors="replace")
        for line in text.splitlines():
            sentence = line.strip()
            if sentence:
                seen.setdefault(sentence, None)
    return list(seen)


# random.choice/randint/randrange cost 3-6 times as much as random(), and a corpus makes
# tens of millions of draws; the bias of int(random() * n) is negligible for these n.
def _pick(rnd: random.Random, items: Sequence[_T]) -> _T:
    return items[int(rnd.random() * len(items))]


def _randbelow(rnd: random.Random, n: int) -> int:
    """Uniform integer in ``[0, n)``."""
    return int(rnd.random() * n)


def _randint(rnd: random.Random, low: int, high: int) -> int:
    """Uniform integer in ``[low, high]``."""
    return low + int(rnd.random() * (high - low + 1))


def _obj_array(items: Sequence[str]) -> ObjArray:
    arr: ObjArray = np.empty(len(items), dtype=object)
    arr[:] = list(items)
    return arr


def _str_list(values: Any) -> list[str]:
    # ndarray.tolist() is typed Any; the arrays passed here only hold str.
    result: list[str] = values
    return result


def _int_list(values: Any) -> list[int]:
    result: list[int] = values
    return result


def _syllable_words(gen: np.random.Generator, count: int, weights: Sequence[float]) -> list[str]:
    """Return ``count`` distinct syllable-built words in random order.

    ``weights[i]`` is the probability of an ``i + 1``-syllable word.
    """
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    max_syl = len(weights)
    seen: dict[str, None] = {}
    while len(seen) < count:
        batch = 2 * (count - len(seen)) + 16
        n_syl = _int_list((np.searchsorted(cdf, gen.random(batch)) + 1).tolist())
        rows: list[list[int]] = gen.integers(0, len(_SYLLABLES), size=(batch, max_syl)).tolist()
        for k, row in zip(n_syl, rows, strict=True):
            word = "".join([_SYLLABLES[i] for i in row[:k]])
            seen.setdefault(word, None)
            if len(seen) == count:
                break
    return list(seen)


class _Lexicon:
    """Seeded pools of pseudo-words, names, places and organisations."""

    def __init__(self, gen: np.random.Generator) -> None:
        words = _syllable_words(gen, _PSEUDO_VOCAB_SIZE, (0.04, 0.36, 0.4, 0.2))
        # Only the most frequent ranks get the shortest words (function words); the rest stay
        # in random order, which gives Portuguese-like ~5 characters per running word.
        words.sort(key=len)
        head, tail = words[:100], words[100:]
        order = _int_list(gen.permutation(len(tail)).tolist())
        #: Pseudo vocabulary by Zipf rank.
        self.pseudo = head + [tail[i] for i in order]
        names = _syllable_words(gen, 19_000, (0.0, 0.5, 0.4, 0.1))
        caps = [w.capitalize() for w in names]
        self.first_names = caps[:3000]
        self.surnames = caps[3000:11_000]
        self.places = caps[11_000:16_000]
        self.org_words = caps[16_000:]

    def number(self, rnd: random.Random) -> str:
        """Return a news-style number (Portuguese formatting)."""
        kind = rnd.random()
        if kind < 0.4:
            return str(_randint(rnd, 2, 999))
        if kind < 0.65:
            return f"{_randint(rnd, 1, 99)}.{_randint(rnd, 0, 999):03d}"
        if kind < 0.85:
            return f"{_randint(rnd, 1, 99)},{_randint(rnd, 1, 9)}%"
        return f"{_randint(rnd, 1, 999)},{_randint(rnd, 0, 99):02d}"

    def organisation(self, rnd: random.Random) -> str:
        """Return an organisation name: an acronym or two capitalised words."""
        if rnd.random() < 0.4:
            return "".join(_pick(rnd, "ABCDEFGHIJLMNOPRSTUV") for _ in range(_randint(rnd, 3, 5)))
        return f"{_pick(rnd, self.org_words)} {_pick(rnd, self.org_words)}"


@dataclass(slots=True)
class _Story:
    """The facts of one news event; every article about it draws on them."""

    persons: list[str]
    entities: list[str]  # persons, places and organisations
    place: str
    fields: dict[str, str]  # values of the text placeholders, see _placeholder_fields
    quote: list[str] = field(default_factory=list)


def _placeholder_fields(
    entities: Sequence[str], numbers: Sequence[str], topic: Sequence[str], salt: int
) -> dict[str, str]:
    """Map the placeholders ``{e0}``..``{t7}`` of generated text to one story's values.

    The salted hash gives each story its own assignment, so the same source name becomes
    different people in different stories but the same person throughout one article.
    """
    picks = [(i * _HASH_MULT + salt) for i in range(_SLOTS_PER_KIND)]
    return dict(
        zip(
            _FIELD_NAMES,
            [values[k % len(values)] for values in (entities, numbers, topic) for k in picks],
            strict=True,
        )
    )


@dataclass(slots=True)
class _Chunk:
    """Generated sentences with ``{e3}``-style placeholders (``str.format`` templates).

    Attributes:
        sentences: Sentence templates; literal braces are escaped.
        ends: Cumulative token count at the end of each sentence.
    """

    sentences: list[str]
    ends: list[int]


class _TextSource(Protocol):
    """Produces generic text in chunks, plus random words."""

    def chunk(self, gen: np.random.Generator, min_tokens: int) -> _Chunk:
        """Return whole sentences totalling at least ``min_tokens`` tokens."""
        ...

    def words(self, gen: np.random.Generator, count: int) -> list[str]:
        """Return ``count`` random lower-case words (for word edits)."""
        ...

    def topic_words(self, gen: np.random.Generator, count: int) -> list[str]:
        """Return ``count`` words fit to characterise a story."""
        ...


def _to_chunk(tokens: ObjArray, ends: IntArray) -> _Chunk:
    """Join a chunk's tokens once and cut it into sentences (much faster than per sentence)."""
    last = ends - 1
    tokens[last] = tokens[last] + _SEP
    text = " ".join(_str_list(tokens.tolist()))
    return _Chunk(sentences=text[: -len(_SEP)].split(_SEP + " "), ends=_int_list(ends.tolist()))


class _PseudoSource:
    """Pseudo-language text: Zipf-distributed syllable words, sentences of 8-35 words."""

    def __init__(self, lexicon: _Lexicon) -> None:
        words = lexicon.pseudo
        self._size = len(words)
        ranks = np.arange(self._size, dtype=np.float64)
        # Zipf-Mandelbrot weights; the shift flattens the head so the top word is not 10% of text.
        weights = 1.0 / (ranks + 2.7) ** 1.05
        # Inverse-CDF lookup table: rank r fills a run of cells proportional to its weight, so
        # a draw is an array index instead of a binary search (4x faster); with 2**21 cells the
        # rarest rank still gets ~2 cells.
        bounds = np.round(np.cumsum(weights / weights.sum()) * _ZIPF_CELLS).astype(np.int64)
        bounds[-1] = _ZIPF_CELLS
        counts = np.diff(bounds, prepend=0)
        self._inverse = np.repeat(np.arange(self._size, dtype=np.uint16), counts)
        # One table holds every rendering of every word: plain, sentence-initial, sentence-final
        # and followed by a comma; a rendering is chosen by adding a multiple of the size.
        self._table = _obj_array(
            words
            + [w.capitalize() for w in words]
            + [w + "." for w in words]
            + [w + "," for w in words]
        )

    def _ranks(self, gen: np.random.Generator, count: int) -> IntArray:
        return self._inverse[gen.integers(0, _ZIPF_CELLS, size=count)].astype(np.int64)

    def chunk(self, gen: np.random.Generator, min_tokens: int) -> _Chunk:
        """Return pseudo sentences with about one story placeholder per sentence."""
        k = min_tokens // 8 + 1  # enough even if every sentence had the minimum length
        lens = gen.integers(8, 36, size=k)
        ends = np.cumsum(lens)
        m = int(np.searchsorted(ends, min_tokens)) + 1
        lens, ends = lens[:m], ends[:m]
        total = int(ends[-1])
        starts = ends - lens
        variant = np.where(gen.random(total) < 0.06, 3, 0)
        variant[starts] = 1
        variant[ends - 1] = 2
        tokens = self._table[self._ranks(gen, total) + self._size * variant]
        # Up to two placeholders per sentence, never at the capitalised first or the
        # period-carrying last position. Entities 45%, numbers 20%, topic words 35%.
        offsets = (gen.random((m, 2)) * (lens[:, None] - 2)).astype(np.int64)
        slots = (starts[:, None] + 1 + offsets)[gen.random((m, 2)) < (0.8, 0.3)]
        kinds = np.searchsorted(np.array([0.45, 0.65]), gen.random(slots.size), side="right")
        keys = gen.integers(0, _SLOTS_PER_KIND, size=slots.size)
        tokens[slots] = _PLACEHOLDERS[kinds * _SLOTS_PER_KIND + keys]
        return _to_chunk(tokens, ends)

    def words(self, gen: np.random.Generator, count: int) -> list[str]:
        """Return Zipf-distributed plain words."""
        return _str_list(self._table[self._ranks(gen, count)].tolist())

    def topic_words(self, gen: np.random.Generator, count: int) -> list[str]:
        """Return mid-frequency words: rare enough to characterise a story."""
        return _str_list(self._table[gen.integers(300, self._size, size=count)].tolist())


def _token_kind(core: str, position: int, proper: frozenset[str]) -> int:
    """Classify a source token: 0 keep, 1 content word, 2 number, 3 proper noun."""
    if any(c.isdigit() for c in core):
        return 2
    if core in proper and (position > 0 or core[0].isupper()):
        return 3
    if len(core) >= 4 and core.isalpha() and core.islower() and core not in _PT_STOPWORDS:
        return 1
    return 0


def _escape(text: str) -> str:
    """Escape literal braces for ``str.format``."""
    return text.replace("{", "{{").replace("}", "}}")


def _split_affixes(token: str) -> tuple[str, str, str]:
    """Split punctuation off a token: ``'("Lula,'`` -> ``('("', 'Lula', ',')``."""
    match = _AFFIX_RE.match(token)
    assert match is not None  # the pattern matches every string
    head, core, tail = match.groups()
    return head, core, tail


class _SentenceSource:
    """Real sentences (e.g. CSTNews) spliced and mutated.

    Each generated sentence joins the first 35-65% of one source sentence with the tail of
    another. Half the proper nouns become random pseudo names and half become story entity
    placeholders; numbers become story number placeholders; 30% of the content words are
    replaced: a third by story topic placeholders, the rest by random real words or
    pseudo-words. Two stories that use the same source sentence therefore share only short runs.
    """

    _SUBSTITUTION_RATE = 0.3

    def __init__(self, base_sentences: Sequence[str], lexicon: _Lexicon) -> None:
        tokenised = [s.split() for s in base_sentences]
        usable = [t for t in tokenised if 8 <= len(t) <= 45]
        if len(usable) < 2:
            # Tiny custom inputs (tests, experiments): splice whatever has two tokens.
            usable = [t for t in tokenised if len(t) >= 2]
        if not usable:
            raise ValueError("base_sentences holds no sentence of two or more words")
        split = [[_split_affixes(tok) for tok in sentence] for sentence in usable]
        # A capitalised word seen inside a sentence is a name wherever it occurs, including at
        # the start of a sentence ("Lula disse ...").
        proper = frozenset(
            core
            for sentence in split
            for _, core, _ in sentence[1:]
            if len(core) >= 2 and core.isalpha() and core[0].isupper()
        )
        flat: list[str] = []
        pre: list[str] = []
        suf: list[str] = []
        kind: list[int] = []
        core_ids: list[int] = []
        core_index: dict[str, int] = {}
        content: list[str] = []
        starts: list[int] = []
        for raw, parts in zip(usable, split, strict=True):
            starts.append(len(flat))
            for position, (token, (head, core, tail)) in enumerate(zip(raw, parts, strict=True)):
                flat.append(_escape(token))
                pre.append(_escape(head))
                suf.append(_escape(tail))
                core_ids.append(core_index.setdefault(core, len(core_index)))
                kind.append(_token_kind(core, position, proper))
                if kind[-1] == 1:
                    content.append(core)
        self._tok = _obj_array(flat)
        self._pre = _obj_array(pre)
        self._suf = _obj_array(suf)
        self._no_suffix = np.array([not s for s in suf], dtype=bool)
        self._kind = np.array(kind, dtype=np.int8)
        self._core_id = np.array(core_ids, dtype=np.int64)
        self._start = np.array(starts, dtype=np.int64)
        self._len = np.array([len(t) for t in usable], dtype=np.int64)
        # By occurrence, not by distinct word, so replacements follow real word frequencies.
        self._content = _obj_array(content or lexicon.pseudo[:1000])
        self._pseudo = _obj_array(lexicon.pseudo)
        self._names = _obj_array(lexicon.surnames + lexicon.places)

    def chunk(self, gen: np.random.Generator, min_tokens: int) -> _Chunk:
        """Return spliced, mutated sentences totalling at least ``min_tokens`` tokens."""
        # The margin covers the name-continuation words dropped below.
        wanted = min_tokens + min_tokens // 4 + 64
        # Spliced sentences average ~22 tokens and have at least 3; draw generously, cut later.
        k = wanted // 3 + 1
        a = gen.integers(0, self._len.size, size=k)
        b = gen.integers(0, self._len.size, size=k)
        len_a, len_b = self._len[a], self._len[b]
        cut_a = np.clip((len_a * gen.uniform(0.35, 0.65, size=k)).astype(np.int64), 2, len_a)
        cut_b = np.clip((len_b * gen.uniform(0.35, 0.65, size=k)).astype(np.int64), 1, len_b - 1)
        m = int(np.searchsorted(np.cumsum(cut_a + len_b - cut_b), wanted)) + 1
        seg_starts = np.empty(2 * m, dtype=np.int64)
        seg_lens = np.empty(2 * m, dtype=np.int64)
        seg_starts[0::2] = self._start[a[:m]]
        seg_lens[0::2] = cut_a[:m]
        seg_starts[1::2] = self._start[b[:m]] + cut_b[:m]
        seg_lens[1::2] = len_b[:m] - cut_b[:m]
        total = int(seg_lens.sum())
        # Source position of every output token: one run of consecutive indices per segment.
        offsets = np.cumsum(seg_lens) - seg_lens
        idx = np.repeat(seg_starts - offsets, seg_lens) + np.arange(total, dtype=np.int64)
        sentence_of = np.repeat(np.arange(m, dtype=np.int64), seg_lens[0::2] + seg_lens[1::2])
        kinds = self._kind[idx]

        # A multi-word name ("Coréia do Norte" keeps "do") is one slot: drop continuation words.
        continuation = np.zeros(total, dtype=bool)
        continuation[1:] = (
            (kinds[1:] == 3)
            & (kinds[:-1] == 3)
            & (idx[1:] == idx[:-1] + 1)
            & self._no_suffix[idx[:-1]]
            & (sentence_of[1:] == sentence_of[:-1])  # never empty a sentence
        )
        keep = ~continuation
        idx, kinds, sentence_of = idx[keep], kinds[keep], sentence_of[keep]
        total = idx.size
        ends = np.searchsorted(sentence_of, np.arange(1, m + 1, dtype=np.int64))

        tokens: ObjArray = self._tok[idx]
        roll = gen.random(total)
        substituted = (kinds == 1) & (roll < self._SUBSTITUTION_RATE)
        # Roll < rate / 3 marks the third of the substituted words that become topic slots.
        topical = np.flatnonzero(substituted & (roll < self._SUBSTITUTION_RATE / 3))
        generic = np.flatnonzero(substituted & (roll >= self._SUBSTITUTION_RATE / 3))
        repl: ObjArray = self._content[gen.integers(0, self._content.size, generic.size)]
        pseudo = gen.random(generic.size) < 0.4
        repl[pseudo] = self._pseudo[gen.integers(0, self._pseudo.size, int(pseudo.sum()))]
        self._wrap(tokens, idx, generic, repl)
        names = np.flatnonzero(kinds == 3)
        to_story = gen.random(names.size) < 0.5
        story_names, other_names = names[to_story], names[~to_story]
        random_names = self._names[gen.integers(0, self._names.size, other_names.size)]
        self._wrap(tokens, idx, other_names, random_names)
        numbers = np.flatnonzero(kinds == 2)
        # Names and numbers use their source word as key, so "Lula ... Lula" stays one person
        # within an article; topic slots take a random key.
        for letter, where, keys in (
            (0, story_names, self._core_id[idx[story_names]] % _SLOTS_PER_KIND),
            (1, numbers, self._core_id[idx[numbers]] % _SLOTS_PER_KIND),
            (2, topical, gen.integers(0, _SLOTS_PER_KIND, size=topical.size)),
        ):
            self._wrap(tokens, idx, where, _PLACEHOLDERS[letter * _SLOTS_PER_KIND + keys])
        return _to_chunk(tokens, ends)

    def _wrap(self, tokens: ObjArray, idx: IntArray, where: IntArray, cores: ObjArray) -> None:
        """Replace the cores of ``tokens[where]``, keeping the source punctuation around them."""
        if where.size:
            src = idx[where]
            tokens[where] = self._pre[src] + cores + self._suf[src]

    def words(self, gen: np.random.Generator, count: int) -> list[str]:
        """Return real content words, drawn by corpus frequency."""
        return _str_list(self._content[gen.integers(0, self._content.size, count)].tolist())

    def topic_words(self, gen: np.random.Generator, count: int) -> list[str]:
        """Return a mix of real content words and pseudo-words."""
        real = self._content[gen.integers(0, self._content.size, count)]
        fake = self._pseudo[gen.integers(0, self._pseudo.size, count)]
        return _str_list(np.where(gen.random(count) < 0.5, fake, real).tolist())


class _Stream:
    """Hands out consecutive sentences of generated text, filled in for a story."""

    def __init__(self, source: _TextSource, gen: np.random.Generator) -> None:
        self._source = source
        self._gen = gen
        self._chunk = source.chunk(gen, _CHUNK_TOKENS)
        self._sent = 0  # index of the next sentence
        self._pos = 0  # token offset of the next sentence
        self._words: list[str] = []
        self._topic: list[str] = []

    def take(self, story: _Story, min_tokens: int) -> list[str]:
        """Return whole sentences of at least ``min_tokens`` tokens in total."""
        chunk = self._chunk
        if chunk.ends[-1] < self._pos + min_tokens:
            # Drop the short tail: simpler than stitching chunks, and costs < 1% of the text.
            chunk = self._chunk = self._source.chunk(self._gen, max(_CHUNK_TOKENS, min_tokens))
            self._pos = self._sent = 0
        last = bisect.bisect_left(chunk.ends, self._pos + min_tokens, lo=self._sent)
        # One format call for all the sentences: far cheaper than one per sentence.
        text = _SEP.join(chunk.sentences[self._sent : last + 1]).format_map(story.fields)
        self._sent, self._pos = last + 1, chunk.ends[last]
        return text.split(_SEP)

    def words(self, count: int) -> list[str]:
        """Return ``count`` random words."""
        if len(self._words) < count:
            self._words = self._source.words(self._gen, max(count, 1 << 15))
        out = self._words[len(self._words) - count :]
        del self._words[len(self._words) - count :]
        return out

    def topic_words(self, count: int) -> list[str]:
        """Return ``count`` words for a story's topic vocabulary."""
        if len(self._topic) < count:
            self._topic = self._source.topic_words(self._gen, max(count, 1 << 15))
        out = self._topic[len(self._topic) - count :]
        del self._topic[len(self._topic) - count :]
        return out


@dataclass(frozen=True, slots=True)
class _Params:
    group_fraction: float
    min_copies: int
    max_copies: int
    hard_negative_fraction: float
    num_outlets: int
    footer_fraction: float
    span_days: int
    start: datetime
    min_wire_share: float
    agency_singleton_fraction: float


# Republication edits and the probability that a copy gets each; at least two are applied.
# Tuned so that copy-wire word 3-gram Jaccard has median ~0.35 and mean ~0.4 (real reprints
# average ~0.3; the odd verbatim reprint keeps the mean up).
_COPY_OPS: tuple[tuple[str, float], ...] = (
    ("trim", 0.85),
    ("reorder", 0.35),
    ("word_edits", 0.9),
    ("insert", 0.5),
    ("new_lede", 0.35),
    ("credit", 0.8),
)


class _Builder:
    """Generates one corpus; holds the random streams and the output being built."""

    def __init__(
        self, num_articles: int, seed: int, base_sentences: Sequence[str] | None, params: _Params
    ) -> None:
        self.n = num_articles
        self.p = params
        self.rnd = random.Random(seed)
        gen = np.random.default_rng(seed)
        self.gen = gen
        self.lexicon = _Lexicon(gen)
        source: _TextSource = (
            _PseudoSource(self.lexicon)
            if base_sentences is None
            else _SentenceSource(base_sentences, self.lexicon)
        )
        self.text = _Stream(source, gen)
        width = max(3, len(str(params.num_outlets - 1)))
        self.outlets = [f"Outlet {i:0{width}d}" for i in range(params.num_outlets)]
        self.footers = [self.footer(i, name) for i, name in enumerate(self.outlets)]
        self.agencies = list(WIRE_AGENCIES)
        self.id_width = max(7, len(str(max(num_articles - 1, 0))))
        self.id_numbers = _int_list(gen.permutation(num_articles).tolist())
        self.group_width = 6
        self.records: list[dict[str, str]] = []
        self.truth: dict[str, str] = {}
        self.wires: dict[str, str] = {}
        self.hard_negatives: dict[str, str] = {}
        self.span_seconds = params.span_days * _SECONDS_PER_DAY

    # -- stories and text -------------------------------------------------------------------

    def new_story(self) -> _Story:
        rnd, lex = self.rnd, self.lexicon
        persons = [
            f"{_pick(rnd, lex.first_names)} {_pick(rnd, lex.surnames)}"
            for _ in range(_randint(rnd, 2, 3))
        ]
        places = [_pick(rnd, lex.places) for _ in range(_randint(rnd, 1, 2))]
        orgs = [lex.organisation(rnd) for _ in range(_randint(rnd, 1, 2))]
        entities = persons + places + orgs
        numbers = [lex.number(rnd) for _ in range(_randint(rnd, 3, 5))]
        fields = _placeholder_fields(
            entities, numbers, self.text.topic_words(8), rnd.getrandbits(31)
        )
        story = _Story(persons=persons, entities=entities, place=places[0], fields=fields)
        words = self.text.take(story, 1)[0].split(" ")
        story.quote = words[: _randint(rnd, 12, 25)]
        return story

    def quote_sentence(self, story: _Story) -> str:
        """The story's quotation as a sentence: “...”, disse <person>."""
        inner = list(story.quote)
        inner[0] = "“" + inner[0][:1].upper() + inner[0][1:]
        inner[-1] = inner[-1].rstrip(".,;:") + "”,"
        return " ".join([*inner, _pick(self.rnd, _ATTRIBUTION_VERBS), story.persons[0] + "."])

    def title(self, story: _Story) -> str:
        rnd = self.rnd
        words = self.text.take(story, 1)[0].split(" ")[: _randint(rnd, 6, 12)]
        if len(words) > 2:
            words[_randint(rnd, 1, len(words) - 1)] = _pick(rnd, story.entities)
        words[-1] = words[-1].rstrip(".,;:")
        words[0] = words[0][:1].upper() + words[0][1:]
        return " ".join(words)

    def paragraph(self, story: _Story, low: int, high: int) -> list[str]:
        """Fresh text of ``low``-``high`` (+ one sentence) tokens, as a token list."""
        return " ".join(self.text.take(story, _randint(self.rnd, low, high))).split(" ")

    def fresh_article(self, story: _Story, dateline: str) -> list[str]:
        """An original article about ``story``: 6-12 paragraphs, ~450-550 words, one quote."""
        rnd = self.rnd
        quote = self.quote_sentence(story)
        # The last sentence overshoots the target by ~10 tokens on average.
        target = _randint(rnd, 440, 540) - quote.count(" ") - 1 - dateline.count(" ")
        sentences = self.text.take(story, target)
        n_sent = len(sentences)
        wanted = min(_randint(rnd, 6, 12), n_sent)
        # Evenly spaced paragraph breaks, each jittered by up to 45% of a paragraph; breaks
        # that collide merge (rare, it only happens with 1-2 sentence paragraphs).
        step = n_sent / wanted
        cuts = {int((i + 0.9 * rnd.random() - 0.45) * step + 0.5) for i in range(1, wanted)}
        bounds = [0, *sorted(c for c in cuts if 0 < c < n_sent), n_sent]
        n_paras = len(bounds) - 1
        paras = [" ".join(sentences[bounds[i] : bounds[i + 1]]) for i in range(n_paras)]
        # The quote sits in paragraphs 2-4, where trimmed republications usually keep it.
        at = _randint(rnd, 1, min(3, n_paras - 1)) if n_paras > 1 else 0
        paras[at] = f"{quote} {paras[at]}"
        if dateline:
            paras[0] = f"{dateline} {paras[0]}"
        return paras

    def footer(self, index: int, name: str) -> str:
        """A fixed 30-60 word promo/boilerplate paragraph for one outlet."""
        fields = _placeholder_fields([name], [str(index)], self.text.topic_words(4), index)
        story = _Story(persons=[name], entities=[name], place=name, fields=fields)
        n_words = _randint(self.rnd, 26, 56)
        words = " ".join(self.text.take(story, n_words)).split(" ")[:n_words]
        words[-1] = words[-1].rstrip(".,;:") + "."
        slug = name.lower().replace(" ", "")
        return " ".join([*words, "©", name + ".", f"www.{slug}.example"])

    # -- republication --------------------------------------------------------------------

    def republish(
        self, story: _Story, wire: list[str], wire_words: list[int], agency: str
    ) -> list[str]:
        """A republication of ``wire`` with several seeded edits.

        Every edit's worst-case loss of wire word 3-grams is charged against a budget, so the
        copy keeps at least ``min_wire_share`` of the wire's 3-grams: heavy trimming comes with
        light editing, as in real reprints.
        """
        rnd = self.rnd
        ops = {name for name, prob in _COPY_OPS if rnd.random() < prob}
        while len(ops) < 2:
            ops.add(_pick(rnd, _COPY_OPS)[0])
        total_words = sum(wire_words)
        kept = len(wire)
        if "trim" in ops:
            # News-pyramid trim: keep the first 30-80% (mostly ~40%) of the paragraphs, but
            # never fewer words than the 3-gram share the copy must keep.
            kept = max(1, round(rnd.triangular(0.3, 0.8, 0.4) * len(wire)))
            floor = max(0.3, self.p.min_wire_share + 0.02) * total_words
            while kept < len(wire) and sum(wire_words[:kept]) < floor:
                kept += 1
        budget = (sum(wire_words[:kept]) - 2) - self.p.min_wire_share * (total_words - 2)
        paras = [p.split(" ") for p in wire[:kept]]

        credit = _pick(rnd, WIRE_AGENCIES[agency]) if "credit" in ops else None
        if credit is not None and credit.endswith("-"):
            # Swap the agency's dateline credit for the republisher's variant, before word edits
            # can shift the dateline; rewriting <= 3 words costs <= 5 3-grams.
            dateline_len = 1 + len(WIRE_AGENCIES[agency][0].split())
            paras[0] = [paras[0][0], *credit.split(), *paras[0][dateline_len:]]
            budget -= dateline_len + 2

        if "reorder" in ops and len(paras) > 1:
            # A swap changes at most four paragraph junctions, killing two 3-grams at each.
            for _ in range(min(_randint(rnd, 1, 3), int(budget // 8))):
                budget -= 8
                i, j = rnd.sample(range(len(paras)), 2)
                if rnd.random() < 0.5:
                    paras[i], paras[j] = paras[j], paras[i]
                else:
                    paras.insert(j, paras.pop(i))

        if "word_edits" in ops:
            n_tokens = sum(len(p) for p in paras)
            # Tokens are single words, so an edit kills at most three 3-grams.
            wanted = round(rnd.uniform(0.02, 0.10) * n_tokens)
            n_edits = max(0, min(wanted, int(budget // 3), n_tokens))
            budget -= 3 * n_edits
            self.edit_words(paras, n_edits)

        if "insert" in ops:
            for _ in range(min(_randint(rnd, 1, 3), max(0, int(budget // 2)))):
                budget -= 2
                paras.insert(_randint(rnd, 1, len(paras)), self.paragraph(story, 30, 80))

        if "new_lede" in ops:
            paras.insert(0, self.paragraph(story, 20, 55))

        if credit is not None and not credit.endswith("-"):
            paras.append(credit.split())
        return [" ".join(p) for p in paras]

    def edit_words(self, paras: list[list[str]], n_edits: int) -> None:
        """Replace, delete or insert ``n_edits`` words in place, spread over ``paras``."""
        if n_edits <= 0:
            return
        rnd = self.rnd
        starts: list[int] = []
        total = 0
        for p in paras:
            starts.append(total)
            total += len(p)
        replacements = self.text.words(n_edits)
        # Descending positions keep earlier indices valid while paragraphs change length.
        positions = sorted(rnd.sample(range(total), n_edits), reverse=True)
        for position, word in zip(positions, replacements, strict=True):
            para_index = bisect.bisect_right(starts, position) - 1
            para = paras[para_index]
            offset = position - starts[para_index]
            action = rnd.random()
            if action < 0.5:
                para[offset] = word
            elif action < 0.75 and len(para) > 1:
                del para[offset]
            else:
                para.insert(offset, word)

    def copy_title(self, story: _Story, wire_title: str) -> str:
        """Half the copies keep the wire headline, a quarter edit it, a quarter write their own."""
        roll = self.rnd.random()
        if roll < 0.5:
            return wire_title
        if roll < 0.75:
            words = wire_title.split()
            words[_randbelow(self.rnd, len(words))] = self.text.words(1)[0]
            words[0] = words[0][:1].upper() + words[0][1:]
            return " ".join(words)
        return self.title(story)

    # -- output -----------------------------------------------------------------------------

    def emit(
        self,
        outlet: str,
        title: str,
        published: int,
        paras: list[str],
        group: str | None,
        footer: str | None,
    ) -> str:
        article_id = f"a{self.id_numbers[len(self.records)]:0{self.id_width}d}"
        if footer is not None:
            paras = [*paras, footer]
        self.records.append(
            {
                "id": article_id,
                "outlet": outlet,
                "title": title,
                "published": (self.p.start + timedelta(seconds=published)).isoformat(),
                "text": "\n\n".join(paras),
            }
        )
        self.truth[article_id] = group if group is not None else f"solo-{article_id}"
        return article_id

    def outlet_footer(self, outlet_index: int) -> str | None:
        return self.footers[outlet_index] if self.rnd.random() < self.p.footer_fraction else None

    def dateline(self, story: _Story, agency: str) -> str:
        return f"{story.place.upper()} {WIRE_AGENCIES[agency][0]}"

    def syndication_group(self, g: int, n_copies: int, with_hard_negative: bool) -> None:
        rnd = self.rnd
        group = f"g{g:0{self.group_width}d}"
        story = self.new_story()
        agency = _pick(rnd, self.agencies)
        wire = self.fresh_article(story, self.dateline(story, agency))
        wire_words = [len(par.split()) for par in wire]
        # Wires start early enough that their copies (up to 48 h later) stay in the span.
        wire_time = _randbelow(rnd, max(1, self.span_seconds - 48 * _SECONDS_PER_HOUR))
        wire_title = self.title(story)
        self.wires[group] = self.emit(agency, wire_title, wire_time, wire, group, None)
        n_outlets = len(self.outlets)
        outlets = (
            rnd.sample(range(n_outlets), n_copies)
            if n_copies <= n_outlets
            else [_randbelow(rnd, n_outlets) for _ in range(n_copies)]
        )
        for outlet in outlets:
            paras = self.republish(story, wire, wire_words, agency)
            self.emit(
                self.outlets[outlet],
                self.copy_title(story, wire_title),
                wire_time + _randint(rnd, 0, 48 * _SECONDS_PER_HOUR),
                paras,
                group,
                self.outlet_footer(outlet),
            )
        if with_hard_negative:
            outlet = _randbelow(rnd, n_outlets)
            when = wire_time + _randint(rnd, -12 * _SECONDS_PER_HOUR, 36 * _SECONDS_PER_HOUR)
            article = self.emit(
                self.outlets[outlet],
                self.title(story),
                max(0, when),
                self.fresh_article(story, ""),
                None,
                self.outlet_footer(outlet),
            )
            self.hard_negatives[article] = group

    def singleton(self) -> None:
        rnd = self.rnd
        story = self.new_story()
        when = _randbelow(rnd, self.span_seconds)
        if rnd.random() < self.p.agency_singleton_fraction:
            agency = _pick(rnd, self.agencies)
            paras = self.fresh_article(story, self.dateline(story, agency))
            self.emit(agency, self.title(story), when, paras, None, None)
        else:
            outlet = _randbelow(rnd, len(self.outlets))
            paras = self.fresh_article(story, "")
            footer = self.outlet_footer(outlet)
            self.emit(self.outlets[outlet], self.title(story), when, paras, None, footer)

    def run(self) -> SyntheticCorpus:
        rnd, p = self.rnd, self.p
        copies_per_group: list[int] = []
        remaining = round(self.n * p.group_fraction)
        while remaining >= 2:
            copies = min(_randint(rnd, p.min_copies, p.max_copies), remaining - 1)
            copies_per_group.append(copies)
            remaining -= copies + 1
        in_groups = sum(c + 1 for c in copies_per_group)
        n_hard = min(round(len(copies_per_group) * p.hard_negative_fraction), self.n - in_groups)
        hard_groups = set(rnd.sample(range(len(copies_per_group)), n_hard))
        self.group_width = max(6, len(str(len(copies_per_group))))
        for g, n_copies in enumerate(copies_per_group):
            self.syndication_group(g, n_copies, g in hard_groups)
        while len(self.records) < self.n:
            self.singleton()
        order = _int_list(self.gen.permutation(self.n).tolist())
        records = [self.records[i] for i in order]
        return SyntheticCorpus(records, self.truth, self.wires, self.hard_negatives)


def generate_corpus(
    num_articles: int,
    *,
    seed: int,
    base_sentences: Sequence[str] | None = None,
    group_fraction: float = 0.3,
    min_copies: int = 1,
    max_copies: int = 6,
    hard_negative_fraction: float = 0.1,
    num_outlets: int = 200,
    footer_fraction: float = 0.5,
    span_days: int = 60,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    min_wire_share: float = 0.25,
    agency_singleton_fraction: float = 0.05,
) -> SyntheticCorpus:
    """Generate a seeded news corpus with known syndication groups.

    The same arguments always give byte-identical records.

    Args:
        num_articles: Exact number of records.
        seed: Seed of every random choice.
        base_sentences: Real sentences (e.g. :func:`load_cstnews_sentences`) to splice and
            mutate into stories; ``None`` uses a seeded Zipf pseudo-language instead.
        group_fraction: Share of the articles that belong to syndication groups.
        min_copies: Fewest republications per wire original.
        max_copies: Most republications per wire original.
        hard_negative_fraction: Share of the groups that get a "same event, independent
            wording" article (a singleton in the truth).
        num_outlets: Number of republishing outlets (``"Outlet 017"``...).
        footer_fraction: Share of an outlet's articles that end with its fixed footer.
        span_days: Days over which publication times spread.
        start: Earliest publication time (timezone-aware).
        min_wire_share: Least share of the wire's word 3-grams that each republication keeps
            (a worst-case budget; real reprints average ~0.3 Jaccard).
        agency_singleton_fraction: Share of singletons published by a wire agency.

    Returns:
        The records, the truth partition, each group's wire id and the hard negatives.

    Raises:
        ValueError: If an argument is out of range or ``base_sentences`` is unusable.
    """
    if num_articles < 0:
        raise ValueError("num_articles must be >= 0")
    for name, value in (
        ("group_fraction", group_fraction),
        ("hard_negative_fraction", hard_negative_fraction),
        ("footer_fraction", footer_fraction),
        ("min_wire_share", min_wire_share),
        ("agency_singleton_fraction", agency_singleton_fraction),
    ):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {value}")
    if not 1 <= min_copies <= max_copies:
        raise ValueError("need 1 <= min_copies <= max_copies")
    if num_outlets < 1 or span_days < 3:
        raise ValueError("need num_outlets >= 1 and span_days >= 3")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    params = _Params(
        group_fraction=group_fraction,
        min_copies=min_copies,
        max_copies=max_copies,
        hard_negative_fraction=hard_negative_fraction,
        num_outlets=num_outlets,
        footer_fraction=footer_fraction,
        span_days=span_days,
        start=start,
        min_wire_share=min_wire_share,
        agency_singleton_fraction=agency_singleton_fraction,
    )
    # The output is millions of acyclic lists, dicts and strings: cyclic garbage collection
    # only rescans them over and over (10-20% of the run time), so pause it while building.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Builder(num_articles, seed, base_sentences, params).run()
    finally:
        if gc_was_enabled:
            gc.enable()


def _main() -> None:
    """Time the generator: ``python -m benchmarks.synthetic N [--seed S] [--cstnews PATH]``."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Time the synthetic corpus generator.")
    parser.add_argument("num_articles", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cstnews", type=Path, default=None, help="CSTNews texts folder")
    args = parser.parse_args()
    sentences = load_cstnews_sentences(args.cstnews) if args.cstnews else None
    if args.cstnews and not sentences:
        parser.error(f"no CSTNews sentences under {args.cstnews}")
    began = time.perf_counter()
    corpus = generate_corpus(args.num_articles, seed=args.seed, base_sentences=sentences)
    elapsed = time.perf_counter() - began
    chars = sum(len(r["text"]) for r in corpus.records)
    words = sum(len(r["text"].split()) for r in corpus.records)
    n = max(1, len(corpus.records))
    print(
        f"{len(corpus.records)} articles, {len(set(corpus.truth.values()))} truth groups, "
        f"{len(corpus.wires)} wires, {len(corpus.hard_negatives)} hard negatives, "
        f"{chars / 1e6:.1f} M chars ({chars / n:.0f} chars, {words / n:.0f} words per article) "
        f"in {elapsed:.1f} s"
    )


if __name__ == "__main__":
    _main()
