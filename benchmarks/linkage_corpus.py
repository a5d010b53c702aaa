"""A dedupe benchmark corpus: the text dumps of `synthetic_dumps`, with the truth kept,
the variants a record-linkage model meets in real listings, and hard negatives.

Every entry records the generated paper it is (`Corpus.truth`). Repeats of an earlier
paper are exact, or one of these variants (each as often as the others):

- `rare_letter`: a letter of a long title word replaced by a rare one (the only variant
  of `synthetic_dumps`);
- `name_typo`: a letter of the method name (`TreilumNet`) dropped or doubled (a letter,
  not a digit: `R1` / `R11` is another version);
- `short_word`: a letter of a word of two to four letters dropped (`On the` -> `On te`);
- `real_word`: a letter changed so that the word spells another dictionary word;
- `hyphenation`: hyphens become spaces, and a rare-letter typo elsewhere;
- `revised_abstract`: a rare-letter typo, and a sentence of the abstract dropped.

Hard negatives are new papers made from an earlier one: its title with a number or
version changed or added (`-3:` -> `-4:`, `7B` -> `13B`, a `V2` appended), and its
abstract's opening sentence; they must stay apart (a later repeat of one repeats it as
it was listed). `--vocabulary small` draws titles
from a few words, in templates with shared openings, and a fifth of them in families
that differ only by a number: where the cost of finding candidate pairs grows.

    .venv/bin/python -m benchmarks.linkage_corpus OUT_DIR --entries 10000
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import synthetic_dumps as dumps
from benchmarks.synthetic_dumps import Paper, PaperFactory, typo_title
from pipeline.papers.titles import is_known_word

REPEAT_SHARE = 0.10
VARIANT_SHARE = 0.30  # of the repeats
HARD_NEGATIVE_SHARE = 0.015
VARIANTS = (
    "rare_letter",
    "name_typo",
    "short_word",
    "real_word",
    "hyphenation",
    "revised_abstract",
)
SMALL_ADJECTIVES = dumps.ADJECTIVES[:12]
SMALL_NOUNS = dumps.NOUNS[:16]
SMALL_OPENINGS = (
    "Towards",
    "Learning",
    "Scaling",
    "Rethinking",
    "Efficient",
    "Robust",
)
FAMILY_SHARE = 0.2
_NUMBER = re.compile(r"\d+")


@dataclass
class LinkageCorpus:
    """The files, and what is true about them."""

    files: list[Path] = field(default_factory=list)
    truth: dict[str, list[int]] = field(default_factory=dict)  # file name -> paper per entry
    kinds: dict[str, list[str]] = field(default_factory=dict)  # file name -> kind per entry
    papers: int = 0
    variants: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VARIANTS, 0))
    exact_repeats: int = 0
    hard_negatives: list[tuple[int, int]] = field(default_factory=list)  # (earlier, new)
    siblings: dict[int, Paper] = field(default_factory=dict)  # paper -> as listed


class SmallVocabularyFactory(PaperFactory):
    """Titles from a dozen adjectives and nouns in a few templates; a fifth of the papers
    belong to a family (one title per family) and carry its number."""

    def paper(self, index: int) -> Paper:
        rng = random.Random(self.seed * 1_000_000_007 + index)
        name = dumps.made_up_name(rng)
        if rng.random() < FAMILY_SHARE:
            family = random.Random(f"family:{self.seed}:{rng.randrange(max(1, index // 20 + 1))}")
            title = f"{self._small_title(family)} {rng.randint(1, 12)}"
        else:
            title = self._small_title(rng)
        abstract, has_github = self._abstract(rng, name)
        return Paper(title, abstract, has_github)

    @staticmethod
    def _small_title(rng: random.Random) -> str:
        words = [rng.choice(SMALL_OPENINGS)]
        for _ in range(rng.randint(2, 4)):
            words += [
                rng.choice(SMALL_ADJECTIVES).capitalize(),
                rng.choice(SMALL_NOUNS).capitalize(),
            ]
            words.append(rng.choice(dumps.CONNECTORS))
        return " ".join(words[:-1])


def _replace_word(
    title: str, pick: Callable[[str], bool], change: Callable[[str], str | None], rng: random.Random
) -> str | None:
    words = title.split(" ")
    candidates = [i for i, word in enumerate(words) if pick(word)]
    rng.shuffle(candidates)
    for i in candidates:
        changed = change(words[i])
        if changed is not None and changed != words[i]:
            return " ".join([*words[:i], changed, *words[i + 1 :]])
    return None


def _name_typo(title: str, rng: random.Random) -> str | None:
    """A letter of a CamelCase or capitalised name word dropped or doubled."""

    def is_name(word: str) -> bool:
        letters = word.rstrip(":")
        return (letters[:1].isupper() and any(c.isupper() for c in letters[1:])) or (
            letters.isalpha() and not is_known_word(letters.lower()) and len(letters) >= 4
        )

    def change(word: str) -> str | None:
        # a letter: a digit dropped or doubled is another version (`R1` / `R11`)
        letters = [at for at in range(1, len(word.rstrip(":")) - 1) if word[at].isalpha()]
        if not letters:
            return None
        at = rng.choice(letters)
        return (
            word[:at] + word[at + 1 :] if rng.random() < 0.5 else word[:at] + word[at] + word[at:]
        )

    return _replace_word(title, is_name, change, rng)


def _short_word(title: str, rng: random.Random) -> str | None:
    def change(word: str) -> str:
        at = rng.randint(1, len(word) - 1)
        return word[:at] + word[at + 1 :]

    return _replace_word(title, lambda w: w.isalpha() and 3 <= len(w) <= 4, change, rng)


def _real_word(title: str, rng: random.Random) -> str | None:
    def change(word: str) -> str | None:
        lower = word.lower()
        for at in rng.sample(range(1, len(lower)), len(lower) - 1):
            for letter in rng.sample("abcdefghilmnoprstu", 18):
                other = lower[:at] + letter + lower[at + 1 :]
                if other != lower and is_known_word(other):
                    return word[0] + other[1:]
        return None

    return _replace_word(title, lambda w: w.isalpha() and len(w) >= 5, change, rng)


def _hyphenation(title: str, rng: random.Random) -> str | None:
    if "-" not in title:
        return None
    return typo_title(title.replace("-", " "), rng)


def _drop_sentence(abstract: str, rng: random.Random) -> str:
    sentences = abstract.split(". ")
    if len(sentences) < 4:
        return abstract
    del sentences[rng.randint(1, len(sentences) - 2)]
    return ". ".join(sentences)


def variant(paper: Paper, kind: str, rng: random.Random) -> Paper | None:
    """`paper` listed again with the variant `kind`, or None when its title has no place
    for it."""
    makers: dict[str, Callable[[str, random.Random], str | None]] = {
        "rare_letter": typo_title,
        "name_typo": _name_typo,
        "short_word": _short_word,
        "real_word": _real_word,
        "hyphenation": _hyphenation,
        "revised_abstract": typo_title,
    }
    title = makers[kind](paper.title, rng)
    if title is None:
        return None
    abstract = _drop_sentence(paper.abstract, rng) if kind == "revised_abstract" else paper.abstract
    return Paper(title, abstract, paper.has_github)


def sibling_title(title: str, rng: random.Random) -> str:
    """Another paper of the same family: a number changed, or a version appended."""
    numbers = list(_NUMBER.finditer(title))
    if numbers:
        found = rng.choice(numbers)
        new = str(int(found.group()) + rng.randint(1, 9))
        return title[: found.start()] + new + title[found.end() :]
    return f"{title} V{rng.randint(2, 5)}"


class _LinkageWriter(dumps._DumpWriter):
    """Chooses each entry as a new paper, a repeat, a variant or a hard negative, and
    records which generated paper it is."""

    def __init__(
        self,
        factory: PaperFactory,
        corpus: dumps.Corpus,
        plan: dumps.FilePlan,
        seed: int,
        linkage: LinkageCorpus,
    ) -> None:
        super().__init__(factory, corpus, plan, seed)
        self.linkage = linkage
        self.truth: list[int] = []
        self.kinds: list[str] = []

    def entries(self, repeat_share: float, typo_share: float) -> Iterator[dumps._Entry]:
        for _ in range(self.plan.entries):
            paper, index, kind = self._choose(repeat_share, typo_share)
            self.truth.append(index)
            self.kinds.append(kind)
            yield dumps._Entry(paper, self.metadata())

    def _choose(self, repeat_share: float, negative_share: float) -> tuple[Paper, int, str]:
        """The entry's paper, the generated paper it is, and its kind: `new`, `exact`, a
        variant's name, or `sibling` (a hard negative)."""
        roll = self.rng.random() if self.earlier_papers else 1.0
        if roll < repeat_share:
            index = self.rng.randrange(self.earlier_papers)
            # a sibling is listed with a title and abstract of its own, not its factory's
            original = self.linkage.siblings.get(index) or self.factory.paper(index)
            if self.rng.random() >= VARIANT_SHARE:
                self.linkage.exact_repeats += 1
                return original, index, "exact"
            kind = VARIANTS[self.rng.randrange(len(VARIANTS))]
            changed = variant(original, kind, self.rng)
            if changed is not None:
                self.linkage.variants[kind] += 1
                return changed, index, kind
        elif roll < repeat_share + negative_share:
            earlier = self.rng.randrange(self.earlier_papers)
            original, new = self.factory.paper(earlier), self.new_paper()
            opening = original.abstract.split(". ")[0]
            rest = new.abstract.split(". ", 1)[-1]
            self.linkage.hard_negatives.append((earlier, self.corpus.papers - 1))
            title = sibling_title(original.title, self.rng)
            sibling = Paper(title, f"{opening}. {rest}", new.has_github)
            self.linkage.siblings[self.corpus.papers - 1] = sibling
            return sibling, self.corpus.papers - 1, "sibling"
        return self.new_paper(), self.corpus.papers - 1, "new"


def generate(
    out_dir: Path, entries: int, seed: int = 0, small_vocabulary: bool = False
) -> LinkageCorpus:
    """Writes `entries` entries as text dumps into `out_dir`, keeping the truth."""
    out_dir.mkdir(parents=True, exist_ok=True)
    factory = SmallVocabularyFactory(seed) if small_vocabulary else PaperFactory(seed)
    corpus, linkage = dumps.Corpus(seed), LinkageCorpus()
    for plan in dumps.plan_files(entries, seed):
        writer = _LinkageWriter(factory, corpus, plan, seed, linkage)
        path = out_dir / f"{plan.index:05d}_linkage_{plan.layout}.txt"
        dumps._write_file(writer, path, REPEAT_SHARE, HARD_NEGATIVE_SHARE)
        linkage.files.append(path)
        linkage.truth[path.name] = writer.truth
        linkage.kinds[path.name] = writer.kinds
    linkage.papers = corpus.papers
    return linkage


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vocabulary", choices=("project", "small"), default="project")
    args = parser.parse_args(argv)
    corpus = generate(args.out_dir, args.entries, args.seed, args.vocabulary == "small")
    print(
        f"{len(corpus.files)} files, {corpus.papers:,} papers, {corpus.exact_repeats:,} exact "
        f"repeats, variants {corpus.variants}, {len(corpus.hard_negatives):,} hard negatives"
    )


if __name__ == "__main__":
    main()
