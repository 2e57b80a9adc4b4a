"""What the settings dialog's tabs hold: the sync fields, the matching options, the number
fields (label with its mnemonic, unit, tab) and the tab titles."""

from __future__ import annotations

SYNC_FIELDS = (
    ("sync_title", "Title"),
    ("sync_studio", "Studio"),
    ("sync_summary", "Summary"),
    ("sync_date", "Date"),
    ("sync_performers", "Performers"),
    ("sync_tags", "Tags"),
    ("sync_collection", "Collection"),
    ("sync_poster", "Poster"),
)
MATCH_OPTIONS = (
    ("strict_matching", "Strict matching: only an exact file path match counts"),
    ("preserve_plex_edits", "Keep values edited in Plex (fill only empty fields)"),
    ("skip_not_found", "Skip scenes Plex does not have, instead of retrying them"),
    ("lock_synced_fields", "Lock synced fields so Plex agents don't overwrite them"),
    ("live_updates", "Live updates: act on Plex's and Stash's notifications within seconds"),
    ("scan_missing", "A file Plex does not have yet: ask Plex to scan just its folder"),
)
# The metadata tab (issue 24): name, label with its mnemonic, one line of help.
METADATA_CHECKS = (
    ("sync_director", "&Director", "Stash's director, as the Plex item's director."),
    (
        "sync_rating",
        "Rati&ng",
        "Stash's rating as your stars in Plex: the account whose token is set here.",
    ),
    (
        "sync_added_at",
        "Added at &from Stash",
        "Plex's Recently Added follows when the scene came into Stash (off: when Plex found it).",
    ),
    (
        "sync_sort_title",
        "Sort by dat&e",
        "A sort title of the date, then the title: sorting by title sorts by date.",
    ),
    (
        "tag_exclude_children",
        "Excluded tags take their child tags &with them",
        "A child or grandchild of an excluded tag stays out of Plex too.",
    ),
    (
        "performer_tags_as_genres",
        "Performers' tags &joined to the genres",
        "The tags Stash keeps on each performer become genres of the scene too.",
    ),
    (
        "sync_groups",
        "Groups as collect&ions",
        "Each Stash group a scene is in becomes a Plex collection of its name.",
    ),
    (
        "parent_studio_as_studio",
        "Parent studio as t&he studio",
        "Plex's studio field shows the studio's parent, when it has one.",
    ),
    (
        "sync_art",
        "Bac&kground art from the screenshot",
        "The screenshot also becomes the item's background, sent once per changed screenshot.",
    ),
    (
        "sync_only_organized",
        "Only scenes marked organi&zed",
        "Other scenes are not sent; one that stops being organized keeps what Plex has.",
    ),
    (
        "sync_only_identified",
        "Only scenes with a StashID or &URL",
        "Scenes not identified yet (no StashID, no URL) are not sent.",
    ),
)
CODE_FIELDS = (  # where Stash's studio code goes
    ("tagline", "Tagline"),
    ("originalTitle", "Original title"),
    ("editionTitle", "Edition (Plex Pass)"),
    ("off", "Nowhere"),
)
PARENT_COLLECTIONS = (
    ("off", "None"),
    ("parent", "The parent's name"),
    ("parent_child", "Parent / Child"),
)
POSTER_SHAPES = (
    ("as_is", "The screenshot as it is"),
    ("portrait", "2:3, the screenshot on a blurred fill"),
)
TAG_STYLES = (
    ("genres", "Genres"),
    ("labels", "Labels"),
    ("both", "Genres and labels"),
)
SECONDS = ("second", "seconds")
NUMBERS = (  # name, label, integer, unit (one, many), tab
    ("plex_connect_timeout", "Co&nnect timeout", False, SECONDS, "plex"),
    ("plex_read_timeout", "&Read timeout", False, SECONDS, "plex"),
    ("poll_interval", "Check Stash &every", False, SECONDS, "sync"),
    ("failure_threshold", "Stop calling Plex &after", True, ("failure", "failures"), "resilience"),
    ("recovery_timeout", "&Try Plex again after", False, SECONDS, "resilience"),
    ("success_threshold", "Back in step &after", True, ("success", "successes"), "resilience"),
    ("max_retries", "Retries &per scene", True, ("retry", "retries"), "resilience"),
    ("max_in_flight", "Plex requests at &once", True, ("request", "requests"), "resilience"),
    ("dlq_retention_days", "&Keep failed scenes for", True, ("day", "days"), "resilience"),
)
TAB_TITLES = {
    "plex": "Plex",
    "stash": "Stash",
    "sync": "Sync",
    "metadata": "Metadata",
    "resilience": "Resilience",
    "app": "App",
}
