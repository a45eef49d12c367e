"""Reading text the way the wmill CLI does, and writing files atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from wac.errors import DiskFullError, MetadataError

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


class EncodingError(MetadataError):
    """The file is not UTF-8 text."""

    hint = "save the file as UTF-8 (wmill and wac read scripts as UTF-8 only)"


def decode_text(data: bytes, path: str | os.PathLike[str] = "<bytes>") -> str:
    """Decode file bytes as the CLI does: drop a UTF-8 BOM, refuse UTF-16/32, replace bad bytes.

    Newlines are kept as they are (CRLF stays CRLF), because they are part of every hash.
    """
    if data.startswith(_UTF8_BOM):
        data = data[3:]
    else:
        for bom, name in _OTHER_BOMS:
            if data.startswith(bom):
                raise EncodingError(f"{path} is {name} encoded")
    return data.decode("utf-8", errors="replace")


def decode_source(data: bytes, path: str | os.PathLike[str] = "<bytes>") -> str:
    """Decode a script about to run: as :func:`decode_text`, but bytes that are not UTF-8 are
    refused (Python refuses such a file too) instead of replaced, with a WAC002 diagnostic."""
    if data.startswith(_UTF8_BOM):
        data = data[3:]
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise EncodingError(f"{path}:1:1 WAC002 source cannot be decoded: the file is {name} encoded")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise EncodingError(
            f"{path}:{line}:{col} WAC002 source cannot be decoded: byte 0x{data[exc.start]:02x} is not UTF-8 "
            "(the file looks Latin-1 or another legacy encoding)") from None


def read_source(path: Path, shown: str | None = None) -> str:
    """Read a script to run with :func:`decode_source`; an unreadable file is a MetadataError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return decode_source(data, shown or path)


def read_text(path: Path) -> str:
    """Read ``path`` as text with :func:`decode_text`; an unreadable file is a MetadataError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return decode_text(data, path)


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write ``path`` through a temporary file in the same folder and ``os.replace``."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(path.parent, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_error(folder: Path, exc: OSError) -> Exception:
    """One clear error for a folder of the repo that cannot be written (read-only, full, denied)."""
    import errno

    from wac.errors import WriteError

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(str(folder))
    return WriteError(f"cannot write in {folder}: {exc.strerror or exc}",
                      hint="make the repo writable (WAC_STATE_DIR only moves wac's own state: "
                           "the store and bundles, not files next to your scripts)")


def create_exclusive(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` unless it exists (as the CLI's ``wx`` flag). True if created."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        raise write_error(path.parent, exc) from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(text.encode("utf-8"))
    return True


def mount_point(path: str) -> str:
    """The mount point of the file system holding ``path`` (to name a full disk)."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    while path != "/" and not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def disk_full(where: str) -> DiskFullError:
    """The one error for a full disk, naming the folder and the file system it lives on (the
    store's and the repo's writes raise it alike)."""
    folder = where if os.path.isdir(where) else os.path.dirname(where)
    return DiskFullError(f"no space left on the disk holding {folder} (file system {mount_point(folder)})")
