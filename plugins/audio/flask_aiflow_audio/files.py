"""Reading clip files strictly inside one folder, and checking their format.

Clip files are named in the configuration relative to the clip folder.
A name is refused when it is absolute, contains a ``..`` component or a
backslash, or resolves (through symlinks) to anything outside the folder;
the file must be a regular file. Files are read only here, at start-up: at
run time clips are looked up by name in memory, so nothing a caller or a
skill says can make the app open a file.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path, PurePosixPath

from flask_aiflow.protocol.wav import REQUIRED, NotWavError, inspect_wav
from flask_aiflow.skills.config import KeyPath

__all__ = ["DEFAULT_MAX_BYTES", "check_format", "convert_command", "read_clip", "resolve_folder", "resolve_in_folder"]

#: Largest clip file accepted by default (about nine minutes of 16 kHz mono 16-bit audio).
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def resolve_folder(value: str, root: str, path: KeyPath) -> Path:
    """The real path of the clip folder; a relative one is taken from ``root`` (the app's)."""
    folder = Path(os.path.realpath(os.path.join(root, value)))
    if not folder.is_dir():
        raise path.error(f"{value!r} is not a folder (looked for {str(folder)!r})")
    return folder


def resolve_in_folder(folder: Path, name: str, path: KeyPath) -> Path:
    """The real path of clip file ``name``, which must stay inside ``folder`` (a real path)."""
    if "\x00" in name:
        raise path.error("a file name may not contain a NUL character")
    if "\\" in name:
        raise path.error(f"{name!r}: use '/' to separate folders, not '\\'")
    relative = PurePosixPath(name)
    if relative.is_absolute():
        raise path.error(f"{name!r} is an absolute path; give a path inside the clip folder")
    if ".." in relative.parts:
        raise path.error(f"{name!r} leaves the clip folder ('..' is not allowed)")
    real = Path(os.path.realpath(folder / relative))
    if real == folder:
        raise path.error(f"{name!r} is the clip folder itself, not a file")
    if folder not in real.parents:
        raise path.error(f"{name!r} resolves to {str(real)!r}, outside the clip folder {str(folder)!r}")
    return real


def read_clip(real: Path, name: str, path: KeyPath, max_bytes: int) -> bytes:
    """Read a regular file that :func:`resolve_in_folder` accepted."""
    try:
        fd = os.open(real, _FLAGS)
    except OSError as exc:
        raise path.error(f"cannot read {name!r}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise path.error(f"{name!r} is not a regular file")
        if info.st_size > max_bytes:
            raise path.error(f"{name!r} has {info.st_size} bytes, more than the limit of {max_bytes}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(max_bytes + 1)
    finally:
        os.close(fd)


def convert_command(name: str) -> str:
    """The ffmpeg command that turns ``name`` into a clip the service plays."""
    stem = PurePosixPath(name)
    target = str(stem.with_name(stem.stem + "-16k.wav"))
    return f"ffmpeg -i {shlex.quote(name)} -ar 16000 -ac 1 -sample_fmt s16 {shlex.quote(target)}"


def check_format(data: bytes, name: str, path: KeyPath) -> None:
    """Refuse anything but 16 kHz mono 16-bit PCM WAV, saying what it is and how to convert it."""
    try:
        info = inspect_wav(data)
    except NotWavError as exc:
        what = f"is not a WAV file ({exc.description})"
    else:
        if info.is_required_format():
            return
        what = f"is {info.describe()}"
    raise path.error(
        f"{name!r} {what}; the service plays only {REQUIRED}. Convert it with: {convert_command(name)}"
    )
