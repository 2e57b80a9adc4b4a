"""The settings dialog's Metadata tab: what else reaches Plex besides the basic fields (issue 24).

The check boxes are the dialog's own (`SettingsDialog._check_row`); this module holds the two
choices and the two texts, how they load from the config and what they give back to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QComboBox, QLineEdit

from engine.config.file import PlexSyncConfig
from gui.settings.tables import CODE_FIELDS, PARENT_COLLECTIONS, POSTER_SHAPES, TAG_STYLES


def tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


class MetadataChoices:
    """The code field, the tag style, the content rating, the excluded tags and the tags
    that make collections."""

    def __init__(self, changed: Callable[[], object]) -> None:
        self.code_field = self._combo("code_field", CODE_FIELDS, changed)
        self.tags_as = self._combo("tags_as", TAG_STYLES, changed)
        self.poster_shape = self._combo("poster_shape", POSTER_SHAPES, changed)
        self.parent_studio_collection = self._combo(
            "parent_studio_collection", PARENT_COLLECTIONS, changed
        )
        self.content_rating = QLineEdit()
        self.content_rating.setObjectName("content_rating")
        self.content_rating.setPlaceholderText(tr("None (Plex keeps its own)"))
        self.content_rating.textChanged.connect(changed)
        self.tag_exclude = QLineEdit()
        self.tag_exclude.setObjectName("tag_exclude")
        self.tag_exclude.setPlaceholderText(tr("Tag names, separated by commas"))
        self.tag_exclude.textChanged.connect(changed)
        self.group_collection_prefix = QLineEdit()
        self.group_collection_prefix.setObjectName("group_collection_prefix")
        self.group_collection_prefix.setPlaceholderText(tr("None, e.g. Group: "))
        self.group_collection_prefix.textChanged.connect(changed)
        self.tag_collections = QLineEdit()
        self.tag_collections.setObjectName("tag_collections")
        self.tag_collections.setPlaceholderText(tr("Tag names, separated by commas"))
        self.tag_collections.textChanged.connect(changed)

    @staticmethod
    def _combo(
        name: str, options: tuple[tuple[str, str], ...], changed: Callable[[], object]
    ) -> QComboBox:
        box = QComboBox()
        box.setObjectName(name)
        for value, label in options:
            box.addItem(tr(label), value)
        box.currentIndexChanged.connect(changed)
        return box

    def load(self, config: PlexSyncConfig) -> None:
        self.code_field.setCurrentIndex(self.code_field.findData(config.code_field))
        self.tags_as.setCurrentIndex(self.tags_as.findData(config.tags_as))
        self.poster_shape.setCurrentIndex(self.poster_shape.findData(config.poster_shape))
        parents = self.parent_studio_collection
        parents.setCurrentIndex(parents.findData(config.parent_studio_collection))
        self.content_rating.setText(config.content_rating)
        self.tag_exclude.setText(", ".join(config.tag_exclude))
        self.tag_collections.setText(", ".join(config.tag_collections))
        self.group_collection_prefix.setText(config.group_collection_prefix)

    def values(self) -> dict[str, Any]:
        return {
            "code_field": self.code_field.currentData(),
            "tags_as": self.tags_as.currentData(),
            "poster_shape": self.poster_shape.currentData(),
            "parent_studio_collection": self.parent_studio_collection.currentData(),
            "content_rating": self.content_rating.text(),
            "tag_exclude": _names(self.tag_exclude),
            "tag_collections": _names(self.tag_collections),
            "group_collection_prefix": self.group_collection_prefix.text(),
        }


def _names(edit: QLineEdit) -> list[str]:
    return [name.strip() for name in edit.text().split(",") if name.strip()]
