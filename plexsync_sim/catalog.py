"""The deterministic catalogue both simulators share: scene ``k`` is computed from ``(seed, k)``.

Scene ``k`` (1-based) has the relative file path ``rel_path(seed, k)``. The Stash simulator serves
it as ``<stash prefix>/<rel>`` (unless the scene has no file, about 2% of scenes), and the Plex
simulator serves movie ``k`` with the file ``<plex prefix>/<rel>`` and a title derived from the
file name only. Nothing is stored: every call recomputes the same values from a private RNG seeded
with ``"<seed>/<k>"`` (string seeds hash with SHA-512, so results are stable across processes).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

# Base timestamps: item k was created at BASE_EPOCH + k * STEP_SECONDS (2020-09-13, one a minute).
BASE_EPOCH = 1_600_000_000
STEP_SECONDS = 60

_ADJECTIVES = (
    "Golden", "Silent", "Crimson", "Velvet", "Hidden", "Distant", "Electric", "Quiet",
    "Midnight", "Wild", "Gentle", "Burning", "Frozen", "Secret", "Lonely", "Bright",
    "Restless", "Shimmering", "Broken", "Endless",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Garden", "Highway", "Letter", "Mirror", "Orchard", "Station", "Summer",
    "Lantern", "Rooftop", "Island", "Promise", "Canyon", "Library", "Festival", "Horizon",
    "Balcony", "Voyage", "Window", "Meadow",
)  # fmt: skip
_ENDINGS = (
    "", "", "", " at Dawn", " in Blue", " Revisited", " After Dark", " for Two",
    " Part II", " by the Sea",
)  # fmt: skip
_FOREIGN_TITLES = (
    "Été à Paris", "Café Noir", "Crème Brûlée", "Mañana en Sevilla", "Niño del Sol",
    "Straße der Träume", "Smörgåsbord", "Ça Suffit", "Noël Blanc", "Jalapeño Nights",
    "東京の夜", "夏の思い出", "月光の庭", "上海之夜", "春天的故事", "서울의 밤",
    "Ночной город", "Λευκό Φως",
)  # fmt: skip
_STUDIOS = (
    "Aurora Pictures", "Blue Harbor Films", "Nordlicht Films", "Étoile Studio",
    "Red Lantern Media", "Sakura Visual", "東京 Pictures", "Velvet Room Productions",
    "Kestrel & Finch", "Moonrise Cinema", "Pacific Drift", "Studio Mañana",
    "Northwind Features", "Brightside Media", "Lumière Noire", "Copper Kettle Films",
    "Greenway Studios", "Zenith Works", "Atelier Délice", "Harborlight",
)  # fmt: skip
_FIRST_NAMES = (
    "Ava", "Chloé", "Mia", "Zoë", "Léa", "Sofia", "Yuki", "Hana", "Ines", "Noor",
    "Liam", "José", "Mateo", "Kai", "Renée", "Björn", "Aiko", "Elena", "Marek", "Priya",
    "さくら", "美咲", "Dário", "Anaïs",
)  # fmt: skip
_LAST_NAMES = (
    "Rivers", "Moreau", "Tanaka", "García", "Novak", "Lindqvist", "Okafor", "Brennan",
    "Fontaine", "Castillo", "Kowalski", "Nakamura", "Østergaard", "Silva", "Hartley",
    "Dubois", "Ferreira", "Yamada", "Müller", "Quinn",
)  # fmt: skip
_TAGS = (
    "Outdoor", "Indoor", "Beach", "City", "Night", "Romance", "Comedy", "Drama",
    "Music", "Dance", "Travel", "Cooking", "Vintage", "Documentary", "Behind the Scenes",
    "Interview", "Sunset", "Rain", "Snow", "Forest", "Road Trip", "Rooftop", "Café",
    "Noir", "Retro", "Handheld", "4K", "Widescreen", "Black & White", "Slow Motion",
    "Soundtrack", "Director's Cut", "Festival Pick", "Série", "Kitchen", "Garden",
    "日本語", "Short", "Long Take", "Improv",
)  # fmt: skip
_SENTENCES = (
    "A long summer evening slowly turns into something nobody planned.",
    "Two old friends meet again after years apart and pick up where they left off.",
    "Shot in a single afternoon with natural light and a small crew.",
    "The city never sleeps, and neither do the people in this story.",
    "Rain on the windows, music in the hallway, and a conversation that runs late.",
    "An unhurried portrait of a place and the people who pass through it.",
    "Le tournage a eu lieu près de la côte, à l'aube.",
    "Filmado en una casa antigua con vistas al mar.",
    "Ein ruhiger Abend, der eine überraschende Wendung nimmt.",
    "撮影は小さなスタジオで行われました。",
    "Everything is improvised except the last scene.",
    "Includes an extended ending not shown in the first release.",
)  # fmt: skip
_EXTENSIONS = (".mp4",) * 16 + (".mkv",) * 3 + (".m4v",)

_SLUG_DROP = re.compile(r"[^\w\s-]", re.UNICODE)
_SLUG_SPACE = re.compile(r"[\s_-]+", re.UNICODE)


@dataclass(frozen=True)
class SceneMeta:
    """What scene ``index`` looks like in Stash before any edit."""

    index: int
    title: str
    code: str | None
    details: str | None
    date: str | None
    studio: str | None
    performers: tuple[str, ...]
    tags: tuple[str, ...]
    urls: tuple[str, ...]
    rel_path: str
    has_file: bool
    size: int
    duration: float
    rating100: int | None
    organized: bool


def slugify(text: str) -> str:
    """Lower-case, keep unicode letters and digits, join words with ``-``."""
    cleaned = _SLUG_DROP.sub("", text.lower())
    return _SLUG_SPACE.sub("-", cleaned).strip("-") or "untitled"


def title_from_path(path: str) -> str:
    """The title a scanner derives from a file name: ``café-noir-12.mp4`` -> ``Café noir 12``."""
    stem = PurePosixPath(path).stem.replace("-", " ").replace("_", " ").strip()
    return (stem[:1].upper() + stem[1:]) if stem else "Untitled"


def join_prefix(prefix: str, rel: str) -> str:
    return f"{prefix.rstrip('/')}/{rel}" if prefix.rstrip("/") else f"/{rel}"


def base_timestamp(index: int) -> int:
    """Creation (and, until edited, update) time of item ``index``, in epoch seconds."""
    return BASE_EPOCH + index * STEP_SECONDS


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}/{index}")


def _title(rng: random.Random) -> str:
    if rng.random() < 0.25:
        title = rng.choice(_FOREIGN_TITLES)
        return title if rng.random() < 0.5 else f"{title} {rng.randint(2, 9)}"
    return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}{rng.choice(_ENDINGS)}"


def _path_parts(rng: random.Random, index: int) -> tuple[str, str | None, str | None, str]:
    """Draw title, studio, date and relative path, always first and in this order."""
    title = _title(rng)
    studio = rng.choice(_STUDIOS) if rng.random() < 0.9 else None
    if rng.random() < 0.92:
        date = f"{rng.randint(2008, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    else:
        date = None
    folder = studio or "Unsorted"
    year = date[:4] if date else "undated"
    rel = f"{folder}/{year}/{slugify(title)}-{index}{rng.choice(_EXTENSIONS)}"
    return title, studio, date, rel


@lru_cache(maxsize=4096)
def rel_path(seed: int, index: int) -> str:
    """Relative file path of scene/movie ``index`` (unique per index)."""
    return _path_parts(_rng(seed, index), index)[3]


def _details(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.2:
        return None
    paragraphs = rng.randint(1, 3) if roll > 0.6 else 1
    return "\n\n".join(
        " ".join(rng.sample(_SENTENCES, rng.randint(1, 3))) for _ in range(paragraphs)
    )


def scene_meta(seed: int, index: int) -> SceneMeta:
    """The full unedited metadata of scene ``index`` for ``seed``."""
    if index < 1:
        raise ValueError("scene indexes start at 1")
    rng = _rng(seed, index)
    title, studio, date, rel = _path_parts(rng, index)
    performers = tuple(
        dict.fromkeys(
            f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
            for _ in range(rng.randint(1, 4))
        )
    )
    tags = tuple(rng.sample(_TAGS, rng.randint(2, 6)))
    details = _details(rng)
    code = f"{slugify(studio or 'ind')[:3].upper()}-{index:05d}" if rng.random() < 0.4 else None
    urls = (f"https://example.org/scenes/{index}",) if rng.random() < 0.5 else ()
    has_file = rng.random() >= 0.02
    rating = rng.choice((None, None, 20, 40, 60, 80, 100))
    return SceneMeta(
        index=index,
        title=title,
        code=code,
        details=details,
        date=date,
        studio=studio,
        performers=performers,
        tags=tags,
        urls=urls,
        rel_path=rel,
        has_file=has_file,
        size=rng.randint(50_000_000, 4_000_000_000),
        duration=round(rng.uniform(120.0, 3600.0), 2),
        rating100=rating,
        organized=rng.random() < 0.3,
    )
