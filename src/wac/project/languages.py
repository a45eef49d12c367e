"""Script languages by file suffix, as the wmill CLI infers them."""

from __future__ import annotations

# Checked in this order, first match wins (the CLI's order).
_LANGUAGE_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".py", "python3"),
    ("fetch.ts", "nativets"),
    ("bun.ts", "bun"),
    ("deno.ts", "deno"),
    (".ts", "bun"),
    (".go", "go"),
    (".my.sql", "mysql"),
    (".bq.sql", "bigquery"),
    (".odb.sql", "oracledb"),
    (".duckdb.sql", "duckdb"),
    (".sf.sql", "snowflake"),
    (".ms.sql", "mssql"),
    (".pg.sql", "postgresql"),
    (".gql", "graphql"),
    (".sh", "bash"),
    (".ps1", "powershell"),
    (".php", "php"),
    (".rs", "rust"),
    (".cs", "csharp"),
    (".playbook.yml", "ansible"),
    (".nu", "nu"),
    (".java", "java"),
    (".rb", "ruby"),
    (".r", "rlang"),
)

# Extensions that make a file a script entry (longest first so ``x.pg.sql`` strips ``.pg.sql``).
SCRIPT_EXTENSIONS: tuple[str, ...] = tuple(
    sorted(
        (
            ".fetch.ts .deno.ts .bun.ts .ts .py .go .sh .pg.sql .my.sql .bq.sql .odb.sql .sf.sql "
            ".ms.sql .duckdb.sql .sql .gql .ps1 .php .rs .cs .nu .playbook.yml .java .rb .r"
        ).split(),
        key=len,
        reverse=True,
    )
)


def language_of(name: str, default_ts: str = "bun") -> str | None:
    """The language of a file name, or None when its suffix maps to none (bare ``.sql`` too)."""
    for suffix, language in _LANGUAGE_SUFFIXES:
        if name.endswith(suffix):
            if suffix == ".ts" and language == "bun":
                return default_ts
            return language
    return None


def script_extension(name: str) -> str | None:
    """The script extension ``name`` ends with (``.pg.sql``, ``.py``...), or None."""
    for ext in SCRIPT_EXTENSIONS:
        if name.endswith(ext) and len(name) > len(ext):
            return ext
    return None
