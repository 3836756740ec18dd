"""Named import mappings: saved in the database, shipped as presets, or read from a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from triage_core.errors import TriageError
from triage_core.store import mapping as mapping_rules
from triage_core.store.mapping import ImportMapping

if TYPE_CHECKING:
    import pandas as pd

    from triage_core.store.connection import Store

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. ")


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 80 or not set(name) <= _NAME_CHARS:
        raise TriageError(f"mapping name {name[:80]!r}: use 1-80 letters, digits, spaces, "
                          "'-', '_' or '.'")
    return name


def load(store: Store, ref: str) -> ImportMapping:
    """A mapping by reference: a path to a TOML file, a saved name, or a preset name."""
    path = Path(ref)
    if path.suffix.lower() == ".toml" or path.exists():
        if not path.is_file():
            raise TriageError(f"{ref}: no such mapping file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TriageError(f"{path.name}: cannot read the mapping file ({exc})") from None
        return ImportMapping.from_toml(text, path.name)
    body = store.scalar("SELECT body FROM import_mappings WHERE name = ?", [ref])
    if body is not None:
        return ImportMapping.from_toml(str(body), ref)
    if ref in mapping_rules.PRESETS:
        return mapping_rules.preset(ref)
    known = names(store)
    raise TriageError(f"no mapping {ref!r}: give a .toml file, or one of "
                      f"{', '.join(known) if known else 'the presets'}")


def save(store: Store, name: str, mapping: ImportMapping) -> None:
    """Store ``mapping`` under ``name`` (replacing one of the same name)."""
    name = check_name(name)
    if name in mapping_rules.PRESETS:
        raise TriageError(f"{name!r} is a shipped preset; save your mapping under another name")
    ImportMapping.from_toml(mapping.to_toml(), name)  # what is saved must read back
    store.execute("INSERT OR REPLACE INTO import_mappings VALUES (?, ?, ?, now()::TIMESTAMP)",
                  [name, mapping.table, mapping.to_toml()])


def delete(store: Store, name: str) -> None:
    if store.scalar("SELECT count(*) FROM import_mappings WHERE name = ?", [name]) == 0:
        raise TriageError(f"no saved mapping {name!r}")
    store.execute("DELETE FROM import_mappings WHERE name = ?", [name])


def names(store: Store) -> list[str]:
    """Saved mappings, then the presets."""
    saved = [str(r["name"]) for r in store.rows("SELECT name FROM import_mappings ORDER BY name")]
    return saved + [p for p in mapping_rules.PRESETS if p not in saved]


def listing(store: Store) -> pd.DataFrame:
    import pandas as pd

    saved = store.query("SELECT name, table_name AS table, 'saved' AS kind, updated_at"
                        " FROM import_mappings ORDER BY name")
    presets = pd.DataFrame({"name": list(mapping_rules.PRESETS), "table": "tickets",
                            "kind": "preset", "updated_at": pd.NaT})
    return pd.concat([saved, presets], ignore_index=True) if len(saved) else presets
