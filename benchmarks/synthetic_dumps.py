"""Synthetic text dumps in the three layouts of `shared/spec/DUMP_FORMAT.md`, for benchmarks.

Everything follows from one seed. The file plan (sizes, layouts, page dates, which
entries repeat an earlier paper) comes from `random.Random(seed)` and one generator per
file; each paper's title and abstract come from a generator keyed by (seed, paper
index). So a paper can be written again later (a repeat in another file, a typo variant,
an entry of the incremental dump) without keeping any text in memory, and one seed
always gives byte-identical files.

The vocabulary is our own: a few hundred common research words plus made-up method,
owner and organisation names built from syllables. Nothing is copied from the seeds.

    uv run python -m benchmarks.synthetic_dumps OUT_DIR --entries 10000 --seed 0
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipeline.papers.titles import is_known_word
from pipeline.text import title_keys

LAYOUTS = ("blocks_with_metadata", "blocks_without_metadata", "compact")
MIN_FILE_ENTRIES = 2_000
MAX_FILE_ENTRIES = 5_000
REPEAT_SHARE = 0.10  # entries that repeat a paper of an earlier file (same title/abstract)
TYPO_SHARE = 0.005  # entries that repeat one with a one-letter typo in a title word
GITHUB_SHARE = 0.20  # papers whose abstract links a GitHub repository
OTHER_LINK_SHARE = 0.06  # papers whose abstract links a project page, dataset or site
NO_META_SHARE = 0.03  # entries without a metadata block in a "blocks with metadata" file
ORG_SHARE = 0.04  # metadata blocks naming an organisation instead of an author count
COMMENTS_SHARE = 0.15  # dates followed by a comment count
YEARLESS_SHARE = 0.45  # dates in the page's own year, written without it
FIRST_PAGE_DAY = date(2024, 1, 1)
LAST_PAGE_DAY = date(2025, 12, 31)
INCREMENTAL_PAGE_DAY = date(2026, 1, 15)

BULLET = "\u2022"
MIDDLE_DOT = "\u00b7"
NBSP = "\u00a0"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

BLOCKS_HEADER = (
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)
PLAIN_BLOCKS_HEADER = (
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "byAK and the research community",
)
COMPACT_HEADER = (
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
)
SUBSCRIBE = "Subscribe"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ADJECTIVES = _words(
    """
    efficient robust scalable sparse dense adaptive hierarchical contrastive generative
    multimodal causal latent neural probabilistic unified lightweight interpretable
    federated continual hybrid dynamic implicit explicit modular recurrent autoregressive
    discrete continuous geometric temporal spatial semantic visual textual structured
    unsupervised supervised self-supervised few-shot zero-shot long-context multilingual
    low-rank quantized distributed differentiable equivariant invariant bayesian
    stochastic optimal universal compositional grounded agentic reflective private secure
    fair faithful calibrated aligned embodied interactive open fast accurate provable
    theoretical empirical minimal global local cross-lingual cross-modal fine-grained
    end-to-end large-scale data-efficient parameter-efficient memory-efficient
    training-free reliable controllable diverse realistic physical clinical synthetic
    """
)
NOUNS = _words(
    """
    attention transformers diffusion retrieval reasoning alignment distillation
    pretraining representations embeddings agents policies rewards preferences benchmark
    datasets tokenizers decoders encoders memory planning search segmentation detection
    generation translation summarization navigation manipulation optimization inference
    sampling quantization pruning adaptation calibration uncertainty robustness
    hallucination evaluation graphs networks models language vision speech audio video
    images molecules proteins code mathematics physics weather medicine radiology
    chemistry recommendation ranking routing scheduling compression watermarking privacy
    fairness explanations features priors kernels operators fields trajectories dynamics
    control experts mixtures layers heads tokens prompts instructions demonstrations
    feedback critics verifiers solvers simulators environments tasks skills curricula
    emergence generalization transfer composition abstraction perception grounding
    captioning editing synthesis rendering reconstruction tracking forecasting anomalies
    questions answers documents tables charts scenes objects humans robots games
    """
)
VERBS = _words(
    """
    improves learns aligns unifies scales compresses regularizes decomposes captures
    models predicts estimates refines distills grounds transfers accelerates stabilizes
    """
)
CONNECTORS = ("for", "with", "via", "in", "of", "from", "under", "through", "beyond", "across")
LEADS = (
    ("Towards",),
    ("Learning",),
    ("Rethinking",),
    ("Scaling",),
    ("Revisiting",),
    ("Understanding",),
    ("Improving",),
    ("Benchmarking",),
    ("Unveiling",),
    ("Bridging",),
    ("Beyond",),
    ("On", "the"),
    ("When", "Do"),
    ("Can",),
    ("A", "Survey", "of"),
    ("Exploring",),
    ("Enhancing",),
    ("Mitigating",),
    ("Training",),
    ("Evaluating",),
)
NUMBER_TOKENS = ("3D", "4-bit", "128K", "7B", "70B", "1M", "2D", "8-bit", "100", "360")
NAME_SUFFIXES = ("", "", "", "", "Net", "Former", "LM", "GPT", "Diff", "Bench", "VL", "-R1")
ONSETS = _words("b c d f g h k l m n p r s t v z br cr dr fl gr kr pl pr sk st tr vr qu")
VOWELS = _words("a e i o u a e i o ae ei io ou ia")
CODAS = ("", "", "", "n", "r", "x", "s", "l", "m", "th", "rk", "nt")
ORG_SUFFIXES = ("AI", "Labs", "University", "Research", "Institute", "")
TITLE_WORD_WEIGHTS = {5: 4, 6: 8, 7: 12, 8: 12, 9: 11, 10: 11, 11: 10, 12: 7, 13: 5, 14: 4}

SENTENCE_TEMPLATES = (
    "Existing {n} methods often struggle with {a} {n} and {a} {n}, which limits their "
    "use in {a} settings.",
    "We propose a {a} {n} framework that {v} {a} {n} through {a} {n}.",
    "Our approach {v} the {n} of {a} {n} without requiring {a} {n}.",
    "Experiments on {k} benchmarks show that the method improves {n} by {x}% over strong "
    "{a} baselines.",
    "We further analyze how {a} {n} interacts with {n} and find that {a} {n} is the main "
    "source of error.",
    "To address this, we introduce a {a} {n} module and a {a} training objective based on {n}.",
    "In particular, {a} {n} reduces the cost of {n} by a factor of {k} while keeping {n} "
    "within {x} points.",
    "Theoretical analysis shows that the proposed {n} converges at a rate of O(1/{k}) under "
    "{a} assumptions.",
    "Recent advances in {a} {n} have enabled {a} {n}, yet {n} remains largely unexplored.",
    "We release a dataset of {k}K {n} examples annotated with {a} {n} labels.",
    "Ablation studies confirm that each component contributes to the final {n} and {n} gains.",
    "On {B}, our model reaches {x} accuracy, compared with {x} for the best {a} baseline.",
    "These results suggest that {a} {n} is a promising direction for {a} {n} in practice.",
    "Unlike prior work, we treat {n} as a {a} {n} problem and solve it with {a} {n}.",
)
FLOURISHES = (
    "We set \u03b1 = 0.{k} and \u03b2 = {k} throughout, following M\u00fcller et al.",
    "The error stays leq{k} with a spread of pm 0.{k} over mathcal S.",
    "Training fits in {k}" + NBSP + "GB and runs \u2264{k} steps \u00d7 {k} seeds.",
)
GITHUB_FORMS = (
    "Code is available at URL.",
    "Code and models are available at URL.git.",
    "Our implementation is at URL/tree/main.",
    "The code is released URL{here}.",
    "Code is publicly available (URL).",
    "Code is available at URL{URL}.",
    "Code is available at URL",
)
OTHER_LINK_FORMS = (
    "Project page: https://OWNER.github.io/REPO/.",
    "Data are available at https://huggingface.co/datasets/OWNER/REPO.",
    "A demo is available at https://www.REPO-project.org.",
)
SENTENCE_POOL = 4_000
ABSTRACT_TARGETS = (1_150, 1_650)  # sentences are added until this length is reached


def _syllables(rng: random.Random, count: int) -> str:
    return "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(count)
    )


def made_up_name(rng: random.Random) -> str:
    """A method name such as `Vorax`, `TreilumNet` or `Quoskia-R1`."""
    return _syllables(rng, rng.choice((2, 2, 3))).capitalize() + rng.choice(NAME_SUFFIXES)


def made_up_handle(rng: random.Random) -> str:
    handle = _syllables(rng, rng.choice((2, 3)))
    return handle + rng.choice(("", "", "-lab", "-ai", str(rng.randint(1, 99))))


def _fill(template: str, rng: random.Random) -> str:
    """Fills `{a}`, `{n}`, `{v}`, `{k}`, `{x}` and `{B}` placeholders one by one."""
    fillers: dict[str, Callable[[], str]] = {
        "{a}": lambda: rng.choice(ADJECTIVES),
        "{n}": lambda: rng.choice(NOUNS),
        "{v}": lambda: rng.choice(VERBS),
        "{k}": lambda: str(rng.randint(2, 99)),
        "{x}": lambda: f"{rng.uniform(10, 95):.1f}",
        "{B}": lambda: made_up_name(rng) + "Bench",
    }
    parts = template.split("{")
    out = [parts[0]]
    for part in parts[1:]:
        key, _, rest = part.partition("}")
        out.append(fillers["{" + key + "}"]() + rest)
    return "".join(out)


@dataclass(frozen=True)
class Paper:
    title: str
    abstract: str
    has_github: bool


class PaperFactory:
    """Titles and abstracts of papers, each a pure function of (seed, paper index)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        pool_rng = random.Random(f"sentences:{seed}")
        self.sentences = tuple(
            _fill(pool_rng.choice(SENTENCE_TEMPLATES), pool_rng) for _ in range(SENTENCE_POOL)
        )

    def paper(self, index: int) -> Paper:
        rng = random.Random(self.seed * 1_000_000_007 + index)
        name = made_up_name(rng)
        title = self._title(rng, name)
        abstract, has_github = self._abstract(rng, name)
        return Paper(title, abstract, has_github)

    @staticmethod
    def _title(rng: random.Random, name: str) -> str:
        target = rng.choices(list(TITLE_WORD_WEIGHTS), list(TITLE_WORD_WEIGHTS.values()))[0]
        style = rng.random()
        head: list[str] = []
        if style < 0.35:
            version = rng.random() < 0.15
            head = [f"{name}-{rng.randint(2, 4)}:" if version else f"{name}:"]
        elif style < 0.60:
            head = list(rng.choice(LEADS))
        words = head + _phrase(rng, max(2, target - len(head)))
        if rng.random() < 0.12:
            words.insert(rng.randint(len(head), len(words) - 1), rng.choice(NUMBER_TOKENS))
        return " ".join(words)

    def _abstract(self, rng: random.Random, name: str) -> tuple[str, bool]:
        task = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        sentences = [
            f"We present {name}, a {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} for {task} "
            f"that {rng.choice(VERBS)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} from "
            f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}."
        ]
        if rng.random() < 0.10:
            sentences.append(_fill(rng.choice(FLOURISHES), rng))
        target = rng.randint(*ABSTRACT_TARGETS)
        length = sum(len(s) + 1 for s in sentences)
        while length < target:
            sentence = rng.choice(self.sentences)
            sentences.append(sentence)
            length += len(sentence) + 1
        owner, repo = made_up_handle(rng), name.replace("-", "") + rng.choice(("", "", "-code"))
        has_github = rng.random() < GITHUB_SHARE
        if has_github:
            url = ("http" if rng.random() < 0.05 else "https") + f"://github.com/{owner}/{repo}"
            sentences.append(rng.choice(GITHUB_FORMS).replace("URL", url))
        if rng.random() < OTHER_LINK_SHARE:
            form = rng.choice(OTHER_LINK_FORMS)
            sentences.append(form.replace("OWNER", owner).replace("REPO", repo.lower()))
        return " ".join(sentences), has_github


def _phrase(rng: random.Random, count: int) -> list[str]:
    """`count` title-cased words: noun phrases of 1-3 words joined by connectors."""
    words: list[str] = []
    while len(words) < count:
        left = count - len(words)
        if words and left >= 2:
            words.append(rng.choice(CONNECTORS))
            left -= 1
        size = left if left <= 3 else rng.randint(1, 3)
        modifiers = [
            rng.choice(NOUNS if rng.random() < 0.3 else ADJECTIVES) for _ in range(size - 1)
        ]
        words += [_title_case(word) for word in [*modifiers, rng.choice(NOUNS)]]
    return words


def _title_case(word: str) -> str:
    return "-".join(part.capitalize() for part in word.split("-"))


def typo_title(title: str, rng: random.Random, attempts: int = 8) -> str | None:
    """The title with one inner letter of one capitalised word (5+ letters) replaced by a
    rare letter, or None. A typo that spells a real word (`Games` -> `Gazes`) is another
    title by the project's rules (`pipeline.papers.titles`), so such draws are tried again."""
    words = title.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha() and w.istitle()]
    for _ in range(attempts if candidates else 0):
        i = rng.choice(candidates)
        word = words[i]
        at = rng.randint(1, len(word) - 2)
        typo = word[:at] + rng.choice([c for c in "jqxz" if c != word[at]]) + word[at + 1 :]
        if not is_known_word(typo.lower()):
            return " ".join([*words[:i], typo, *words[i + 1 :]])
    return None


@dataclass(frozen=True)
class FilePlan:
    index: int
    layout: str
    entries: int
    page_day: date


@dataclass
class Corpus:
    """What was written, with the figures a correct reading should reproduce."""

    seed: int
    files: list[Path] = field(default_factory=list)
    entries: int = 0
    papers: int = 0  # papers generated: indices 0 .. papers-1 of the factory
    # Generated papers whose title (after normalization) an earlier one already had: the
    # dedupe rules make them one paper, as they would two such real listings.
    title_collisions: int = 0
    title_keys: set[str] = field(default_factory=set, repr=False)
    repeats: int = 0
    typos: int = 0
    papers_with_github: int = 0
    bytes: int = 0
    entries_by_layout: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAYOUTS, 0))


def plan_files(entries: int, seed: int) -> list[FilePlan]:
    """File sizes of 2,000-5,000 entries summing to `entries`; layouts in rotation."""
    rng = random.Random(f"plan:{seed}")
    sizes: list[int] = []
    left = entries
    while left > 0:
        size = min(left, rng.randint(MIN_FILE_ENTRIES, MAX_FILE_ENTRIES))
        if 0 < left - size < MIN_FILE_ENTRIES and size + (left - size) <= MAX_FILE_ENTRIES:
            size = left
        sizes.append(size)
        left -= size
    span = (LAST_PAGE_DAY - FIRST_PAGE_DAY).days
    return [
        FilePlan(
            i, LAYOUTS[i % len(LAYOUTS)], size, FIRST_PAGE_DAY + timedelta(rng.randint(0, span))
        )
        for i, size in enumerate(sizes)
    ]


@dataclass
class _Entry:
    paper: Paper
    metadata: list[str] | None


class _DumpWriter:
    """Chooses and renders the entries of one file."""

    def __init__(self, factory: PaperFactory, corpus: Corpus, plan: FilePlan, seed: int) -> None:
        self.factory, self.corpus, self.plan = factory, corpus, plan
        self.rng = random.Random(f"file:{seed}:{plan.index}")
        self.earlier_papers = corpus.papers  # papers of earlier files only
        self.need_last_year = True
        self.new_titles: list[str] = []

    def entries(self, repeat_share: float, typo_share: float) -> Iterator[_Entry]:
        for _ in range(self.plan.entries):
            roll = self.rng.random() if self.earlier_papers else 1.0
            paper: Paper | None = None
            if roll < typo_share:
                paper = self.typo_of_earlier()
            elif roll < typo_share + repeat_share:
                paper = self.repeat_of_earlier()
            if paper is None:
                paper = self.new_paper()
            yield _Entry(paper, self.metadata())

    def new_paper(self) -> Paper:
        paper = self.factory.paper(self.corpus.papers)
        self.corpus.papers += 1
        self.corpus.papers_with_github += paper.has_github
        self.new_titles.append(paper.title)
        return paper

    def count_title_collisions(self) -> None:
        """Adds this file's new papers to the corpus's title keys (keyed in one batch,
        as ingest keys them), counting the keys already there."""
        for key in title_keys(pl.Series(self.new_titles, dtype=pl.String)):
            if key in self.corpus.title_keys:
                self.corpus.title_collisions += 1
            self.corpus.title_keys.add(key)
        self.new_titles.clear()

    def repeat_of_earlier(self) -> Paper:
        self.corpus.repeats += 1
        return self.factory.paper(self.rng.randrange(self.earlier_papers))

    def typo_of_earlier(self) -> Paper | None:
        original = self.factory.paper(self.rng.randrange(self.earlier_papers))
        title = typo_title(original.title, self.rng)
        if title is None:
            return None
        self.corpus.typos += 1
        return Paper(title, original.abstract, original.has_github)

    def metadata(self) -> list[str] | None:
        if self.plan.layout != "blocks_with_metadata" or self.rng.random() < NO_META_SHARE:
            return None
        rng = self.rng
        if rng.random() < ORG_SHARE:
            name = _syllables(rng, 2).capitalize()
            handle = rng.choice((name, name.lower(), name + "-AI"))
            head = f"{handle} {(name + ' ' + rng.choice(ORG_SUFFIXES)).strip()}"
        else:
            head = f"  {BULLET} {rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 23, 41))} authors"
        return [head, MIDDLE_DOT, self._date_text()]

    def _date_text(self) -> str:
        """A publication date: year-less in the page's year, else an earlier year written
        out. The first dated entry of a file is from the year before, so that the page's
        year can be inferred."""
        rng, page = self.rng, self.plan.page_day
        if self.need_last_year or rng.random() >= YEARLESS_SHARE:
            year = page.year - (1 if self.need_last_year else rng.choice((1, 1, 1, 2, 2, 3, 5)))
            self.need_last_year = False
            day = date(year, 1, 1) + timedelta(rng.randint(0, 364))
            text = f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
        else:
            day = page - timedelta(rng.randint(0, (page - date(page.year, 1, 1)).days))
            text = f"{MONTHS[day.month - 1]} {day.day}"
        if rng.random() < COMMENTS_SHARE:
            text += f" {rng.randint(1, 30)}"
        return text

    def render(self, entries: list[_Entry]) -> str:
        page = f"{MONTHS[self.plan.page_day.month - 1]} {self.plan.page_day.day}"
        if self.plan.layout == "compact":
            lines = list(COMPACT_HEADER)
            for i, entry in enumerate(entries):
                title = SUBSCRIBE + entry.paper.title if i == 0 else entry.paper.title
                lines += [title, entry.paper.abstract]
            text = "\n".join(lines)
        else:
            header = BLOCKS_HEADER if self.plan.layout == "blocks_with_metadata" else None
            blocks = [*(header or PLAIN_BLOCKS_HEADER), page]
            for entry in entries:
                blocks += [entry.paper.title, entry.paper.abstract]
                if entry.metadata:
                    blocks.append("\n".join(entry.metadata))
            text = "\n\n".join(blocks)
        return text + ("\n" if self.rng.random() < 0.5 else "")


def _write_file(
    writer: _DumpWriter, path: Path, repeat_share: float, typo_share: float
) -> list[_Entry]:
    entries = list(writer.entries(repeat_share, typo_share))
    writer.count_title_collisions()
    data = writer.render(entries).encode("utf-8")
    path.write_bytes(data)
    corpus = writer.corpus
    corpus.files.append(path)
    corpus.entries += len(entries)
    corpus.bytes += len(data)
    corpus.entries_by_layout[writer.plan.layout] += len(entries)
    return entries


def generate_dumps(out_dir: Path, entries: int, seed: int = 0) -> Corpus:
    """Writes `entries` entries as text dumps of 2,000-5,000 entries into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    factory, corpus = PaperFactory(seed), Corpus(seed)
    plans = plan_files(entries, seed)
    # The first file has nothing earlier to repeat: the others make up for it.
    later = entries - plans[0].entries if plans else 0
    boost = entries / later if later else 1.0
    for plan in plans:
        writer = _DumpWriter(factory, corpus, plan, seed)
        path = out_dir / f"{plan.index:05d}_synthetic_{plan.layout}.txt"
        _write_file(writer, path, REPEAT_SHARE * boost, TYPO_SHARE * boost)
    return corpus


def write_incremental_dump(
    out_dir: Path, corpus: Corpus, entries: int = 100, repeats: int = 10, typos: int = 1
) -> Path:
    """One more "blocks with metadata" dump: `entries - repeats - typos` new papers,
    `repeats` exact repeats of papers in `corpus` and `typos` typo variants of others."""
    factory = PaperFactory(corpus.seed)
    plan = FilePlan(10**6, "blocks_with_metadata", entries, INCREMENTAL_PAGE_DAY)
    writer = _DumpWriter(factory, corpus, plan, corpus.seed)
    rng = random.Random(f"incremental:{corpus.seed}:{corpus.papers}")
    kinds = ["repeat"] * repeats + ["typo"] * typos
    kinds += ["new"] * (entries - len(kinds))
    rng.shuffle(kinds)
    chosen: list[_Entry] = []
    for kind in kinds:
        paper = None
        if kind == "typo":
            paper = writer.typo_of_earlier()
        elif kind == "repeat":
            paper = writer.repeat_of_earlier()
        chosen.append(_Entry(paper or writer.new_paper(), writer.metadata()))
    writer.count_title_collisions()
    data = writer.render(chosen).encode("utf-8")
    path = out_dir / f"incremental_{corpus.seed}_{corpus.papers}.txt"
    path.write_bytes(data)
    corpus.files.append(path)
    corpus.entries += len(chosen)
    corpus.bytes += len(data)
    corpus.entries_by_layout[plan.layout] += len(chosen)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    corpus = generate_dumps(args.out_dir, args.entries, args.seed)
    print(
        f"{len(corpus.files)} files, {corpus.entries:,} entries, {corpus.papers:,} papers, "
        f"{corpus.repeats:,} repeats, {corpus.typos:,} typo variants, "
        f"{corpus.title_collisions:,} title collisions, {corpus.bytes:,} bytes"
    )


if __name__ == "__main__":
    main()
