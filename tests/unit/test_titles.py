"""Title normalization: which spellings are one title, and which near-misses are not.

`title_key` decides exact merges, `number_signature` and `typo_variant` fuzzy ones; each
case below is a pair a real listing dump can produce.
"""

from __future__ import annotations

import unicodedata

import duckdb
import pytest

from pipeline.papers.titles import number_signature, title_variant, typo_variant
from pipeline.text import fold, title_key, title_words, title_words_sql


def full_width(text: str) -> str:
    """ASCII letters as their full-width forms, as East Asian input methods type them."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalpha() else ch for ch in text)


BASE = "Scaling Pre-training for Robust Vision Language Models"


@pytest.mark.parametrize(
    "variant",
    [
        "scaling pre-training for robust vision language models",  # case
        "SCALING PRE-TRAINING FOR ROBUST VISION LANGUAGE MODELS",
        "Scaling Pretraining for Robust Vision Language Models",  # hyphenation
        "Scaling Pre training for Robust Vision Language Models",
        "Scaling Pre\u2010training for Robust Vision Language Models",  # unicode hyphen
        "Scaling Pre\u2011training for Robust Vision-Language Models",  # no-break hyphen
        "Scaling Pre-training for Robust Vision Language Models.",  # punctuation
        "Scaling Pre-training: for Robust, Vision & Language Models!",
        "  Scaling  Pre-training   for Robust Vision Language Models ",  # spaces
        "Scaling\u00a0Pre-training\u00a0for Robust Vision Language\u202fModels",  # nbsp
        full_width("Scaling") + " Pre-training for Robust Vision Language Models",
    ],
)
def test_same_title_key(variant: str) -> None:
    assert title_key(variant) == title_key(BASE)


def test_nfc_nfd_and_accents_share_a_key() -> None:
    nfc = unicodedata.normalize("NFC", "Café Über Naïve Models for Señor Robots")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert title_key(nfc) == title_key(nfd) == title_key("Cafe Uber Naive Models for Senor Robots")


def test_key_keeps_spaces_beside_digits() -> None:
    # `Llama 3 1B` must not become `Llama 31B`.
    assert title_key("Llama 3 1B Report") != title_key("Llama 31B Report")
    assert title_key("Llama 3 1B Report") == title_key("llama 3 1b report")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Attention Is All You Need Part I", "Attention Is All You Need Part II"),
        ("Benchmarking Multimodal Reasoning V2", "Benchmarking Multimodal Reasoning V3"),
        ("Language Models Like GPT-3 Are Few Shot Learners", "Language Models Like GPT-4 Are"),
        ("Scaling Laws for 7B Language Models", "Scaling Laws for 70B Language Models"),
        ("Two Stage Training for Speech", "Three Stage Training for Speech"),
        ("The Second Look at Robust Speech", "The Third Look at Robust Speech"),
        ("Qwen2.5 Technical Report", "Qwen2 Technical Report"),
        ("Phase I Trials of Language Agents", "Phase II Trials of Language Agents"),
    ],
)
def test_number_signatures_differ(a: str, b: str) -> None:
    assert number_signature(a) != number_signature(b)
    assert title_key(a) != title_key(b)


def test_number_signature_reads_numerals_and_words() -> None:
    assert number_signature("Part II of Twelve Models at 7B") == ("2", "12", "7")
    assert number_signature(full_width("Part") + " \u2163") == ("4",)
    # a lone `I` is a pronoun unless a part marker precedes it
    assert number_signature("Can I Trust My Model") == ()
    assert number_signature("Chapter I: Foundations") == ("1",)
    # a numeral is written in capitals (or follows a part marker): `vi` is a typo of `via`
    assert number_signature("Llama III Technical Report") == ("3",)
    assert number_signature("Reasoning vi Semantic Policies") == ()
    assert number_signature("Attention, part ii") == ("2",)


def test_fold_and_words() -> None:
    assert fold("ÜBER\u2013Modelle") == "uber-modelle"
    assert title_words("Pre-training GPT-4 Models") == ["pretraining", "gpt", "4", "models"]


LONG = "Efficient Reinforcement Learning for Large Language Models"


@pytest.mark.parametrize(
    "typo",
    [
        "Efficient Reinforcment Learning for Large Language Models",  # deletion
        "Efficient Reinforcemnet Learning for Large Language Models",  # transposition
        "Efficeint Reinforcement Learning for Large Language Models",  # transposition
        "Efficient Reinforcement Learnimg for Large Language Models",  # substitution
        "Efficient Reinforcement Learnnig for Large Language Modells",  # two words
    ],
)
def test_typo_variants_merge(typo: str) -> None:
    assert title_key(typo) != title_key(LONG)
    assert typo_variant(LONG, typo)
    assert typo_variant(typo, LONG)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # a real word for another real word is a different paper
        (
            "Scalable Diffusion Transformers for Image Generation",
            "Scalable Diffusion Transformers for Video Generation",
        ),
        (
            "Graph Neural Networks for Molecular Property Prediction",
            "Grape Neural Networks for Molecular Property Prediction",
        ),
        (
            "Transformers for Long Context Understanding",
            "Transformers for Long Content Understanding",
        ),
        # acronyms are names: one letter apart is another method
        (
            "DDPM Sampling for Faster Generative Image Models",
            "DDIM Sampling for Faster Generative Image Models",
        ),
        (
            "LLaVA Instruction Tuning for Visual Assistants",
            "LLaMA Instruction Tuning for Visual Assistants",
        ),
        # numbers, numerals and number words never count as typos
        ("Attention Is All You Need Part I", "Attention Is All You Need Part II"),
        (
            "Benchmarking Multimodal Reasoning Models V2",
            "Benchmarking Multimodal Reasoning Models V3",
        ),
        (
            "Language Models Like GPT-3 Are Few Shot Learners",
            "Language Models Like GPT-4 Are Few Shot Learners",
        ),
        ("Scaling Laws for 7B Parameter Models", "Scaling Laws for 70B Parameter Models"),
        (
            "Two Stage Training for Robust Speech Recognition",
            "Three Stage Training for Robust Speech Recognition",
        ),
        # too many differences, short words, different lengths
        (
            "Efficient Reinforcment Lerning for Large Languge Models",
            "Efficient Reinforcement Learning for Large Language Models",
        ),
        ("Fast Nets for Fun Robots", "Fast Nuts for Fun Robots"),
        (
            "Efficient Reinforcement Learning for Language Models",
            "Efficient Reinforcement Learning for Large Language Models",
        ),
        ("Same Title Four Words", "Same Title Four Words"),
    ],
)
def test_not_typo_variants(a: str, b: str) -> None:
    assert not typo_variant(a, b)
    assert not typo_variant(b, a)


def test_digits_glued_to_letters_or_not_share_a_key() -> None:
    assert title_key("GPT-3 Solves Puzzles") == title_key("GPT3 solves puzzles")
    assert title_key("Llama 3 1B Distilled") != title_key("Llama 31B Distilled")


@pytest.mark.parametrize("dash", ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2212", "\uff0d"])
def test_the_sql_word_splitter_reads_every_dash_as_python_does(dash: str) -> None:
    """Signatures are computed in SQL and checked in Python: both must see the same
    words, or a title with U+2011 hyphens never meets its typo variants."""
    title = f"Self{dash}Supervised Pre{dash}training of Vision{dash}Language Models"
    with duckdb.connect() as con:
        (words,) = con.execute(
            f"SELECT {title_words_sql('t')} FROM (SELECT $1 AS t)", [title]
        ).fetchone()
    assert (
        words
        == title_words(title)
        == ["selfsupervised", "pretraining", "of", "visionlanguage", "models"]
    )


@pytest.mark.parametrize(
    ("a", "b", "tier"),
    [
        # plain typos: enough with abstracts that do not disagree
        (LONG, "Efficient Reinforcment Learning for Large Language Models", "typo"),
        (  # a typo plus a hyphenation change: the words apart line up
            "Self-Supervised Depth Estimation from Monocular Video",
            "Self Supervised Depth Estimaton from Monocular Video",
            "typo",
        ),
        (  # and joined
            "Pre-training Robust Vision Encoders Today",
            "Pretraining Robust Vision Encodres Today",
            "typo",
        ),
        # a typo only if the abstracts agree closely
        (
            "GraphMixer Routing for Sparse Message Passing",
            "GrapMixer Routing for Sparse Message Passing",
            "close",
        ),
        (
            "DDPM Sampling for Faster Generative Image Models",
            "DDIM Sampling for Faster Generative Image Models",
            "close",
        ),
        (
            "On the Ranking of Retrieval Augmented Answers",
            "On te Ranking of Retrieval Augmented Answers",
            "close",
        ),
        (
            "Graph Neural Networks for Molecular Property Prediction",
            "Grape Neural Networks for Molecular Property Prediction",
            "close",
        ),
        # never: numbers, parts, sizes, single letters, more than one edit in a short word
        ("Scaling Laws for 7B Parameter Models", "Scaling Laws for 70B Parameter Models", None),
        (
            "Benchmarking Multimodal Reasoning Models V2",
            "Benchmarking Multimodal Reasoning Models V3",
            None,
        ),
        ("Attention Is All You Need Part I", "Attention Is All You Need Part II", None),
        (
            "FooNet-S: Efficient Speech Recognition on Phones",
            "FooNet-M: Efficient Speech Recognition on Phones",
            None,
        ),
        (  # a typo of a size word is a typo; one size for another never is
            "FooNet Small for Efficient Speech Recognition",
            "FooNet Smal for Efficient Speech Recognition",
            "close",
        ),
        (
            "FooNet Base for Efficient Speech Recognition",
            "FooNet Large for Efficient Speech Recognition",
            None,
        ),
        (  # a letter dropped from a hyphenated word: not one letter for another
            "Audio Radiology of End-To-End Memory Models",
            "Audio Radiology of End-T-End Memory Models",
            "close",
        ),
        (  # a mistyped number word: the number is not stated twice differently
            "Enhancing Zero-Shot Pruning in Modular Simulators",
            "Enhancing Zerro-Shot Pruning in Modular Simulators",
            "close",
        ),
        (
            "Learning Dynamics of Wide Networks, Part A",
            "Learning Dynamics of Wide Networks, Part B",
            None,
        ),
        (
            "Scalable Diffusion Transformers for Image Generation",
            "Scalable Diffusion Transformers for Video Generation",
            None,
        ),
        ("Fast Nets for Fun Robots", "Fast Nuts for Fun Robots", "close"),
        ("Fast Nets for Fun Robots", "Fast Cats for Fun Robots", None),
    ],
)
def test_title_variant_tiers(a: str, b: str, tier: str | None) -> None:
    for first, second in ((a, b), (b, a)):
        match = title_variant(first, second)
        assert (match.tier if match else None) == tier, (first, second)
