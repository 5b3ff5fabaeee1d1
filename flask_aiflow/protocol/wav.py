"""Just enough WAV parsing to tell whether a clip is what the service plays.

The ``audio`` action only works with 16 kHz mono 16-bit PCM WAV. A wrong
clip fails silently on the phone, so :func:`inspect_wav` reads the RIFF
header and reports what the data really is, and when it is no WAV at all,
what it looks like instead (MP3, Ogg, ...). Only the header is needed: a
prefix of the file (the first few KB) suffices, and
:func:`inspect_wav_reader` reads only the chunk headers of a larger source.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "FFMPEG_HINT",
    "REQUIRED",
    "NotWavError",
    "WavInfo",
    "format_name",
    "inspect_wav",
    "inspect_wav_reader",
]

#: The only audio format the service plays.
REQUIRED = "16 kHz mono 16-bit PCM WAV"

#: How to convert any audio file into :data:`REQUIRED`.
FFMPEG_HINT = "ffmpeg -i input -ar 16000 -ac 1 -sample_fmt s16 output.wav"

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE

_FORMAT_NAMES = {
    WAVE_FORMAT_PCM: "PCM",
    0x0002: "MS ADPCM",
    WAVE_FORMAT_IEEE_FLOAT: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MP3",
    WAVE_FORMAT_EXTENSIBLE: "extensible",
}

#: Bytes 2..15 of every standard KSDATAFORMAT_SUBTYPE GUID; bytes 0..1 hold the format tag.
_SUBFORMAT_SUFFIX = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

#: Give up looking for the fmt chunk after this many chunks (guards against
#: a source made of millions of tiny chunks).
MAX_CHUNKS = 1000

_Reader = Callable[[int, int], bytes]


class NotWavError(ValueError):
    """The data is not a (complete enough) RIFF/WAVE header.

    :param description: what the data looks like instead, e.g.
        ``"looks like MP3 audio (ID3 tag)"`` or ``"is empty"``.
    """

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(f"not a WAV file: {description}")


@dataclass(frozen=True, slots=True)
class WavInfo:
    """The format of a WAV file, from its fmt chunk.

    For WAVE_FORMAT_EXTENSIBLE, ``format_tag`` stays 0xFFFE and
    ``subformat_tag`` holds the real format (1 = PCM, 3 = float) when the
    subformat GUID is a standard one.
    """

    format_tag: int
    format_name: str
    channels: int
    sample_rate: int
    bits_per_sample: int
    subformat_tag: int | None = None

    def describe(self) -> str:
        """Human wording, e.g. ``"44100 Hz stereo 16-bit PCM WAV"``."""
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels}-channel")
        return f"{self.sample_rate} Hz {layout} {self.bits_per_sample}-bit {self.format_name} WAV"

    def is_required_format(self) -> bool:
        """True for plain 16 kHz mono 16-bit PCM, the only format the service plays.

        WAVE_FORMAT_EXTENSIBLE does not count even with a PCM subformat: the
        service documents plain PCM, and ffmpeg writes plain PCM for this
        format anyway.
        """
        return (
            self.format_tag == WAVE_FORMAT_PCM
            and self.sample_rate == 16000
            and self.channels == 1
            and self.bits_per_sample == 16
        )


def format_name(tag: int) -> str:
    """The usual name of a WAVE format tag, or ``"format 0x...."``."""
    return _FORMAT_NAMES.get(tag) or f"format 0x{tag:04X}"


# -- sniffing non-WAV data ----------------------------------------------------


def _looks_like(head: bytes) -> str:
    """Describe data that does not start with a RIFF/WAVE header."""
    if not head:
        return "is empty"
    if head.startswith(b"ID3"):
        return "looks like MP3 audio (ID3 tag)"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        if head[1] & 0x06 == 0:
            return "looks like AAC audio (ADTS)"
        return "looks like MP3 audio (MPEG frame)"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[4:8] == b"ftyp":
        return "looks like MP4/M4A audio"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "looks like AIFF audio"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return f"is a RIFF {head[8:12].decode('latin-1')!r} file, not WAVE"
    if b"RIFF".startswith(head[:4]) or head.startswith(b"RIFF"):
        return f"is truncated: the WAV header ends after {len(head)} bytes"
    if head.startswith(b"UklGR"):
        return "looks like base64 text of a WAV file; decode it first"
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head[:64]):
        return "looks like text"
    return "is unrecognised data starting with " + head[:8].hex(" ")


_MAGIC = (
    (b"OggS", "looks like Ogg audio (Vorbis/Opus)"),
    (b"fLaC", "looks like FLAC audio"),
    (b"RIFX", "is a big-endian RIFX WAV; only little-endian RIFF WAV is supported"),
    (b"RF64", "is an RF64 (64-bit) WAV; only plain RIFF WAV is supported"),
    (b"#!AMR", "looks like AMR audio"),
    (b".snd", "looks like Sun/NeXT AU audio"),
    (b"\x1aE\xdf\xa3", "looks like WebM/Matroska"),
    (b"MThd", "looks like a MIDI file"),
)


# -- chunk walking ------------------------------------------------------------


def _parse_fmt(body: bytes, size: int) -> WavInfo:
    tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", body)
    subformat = None
    name = format_name(tag)
    if tag == WAVE_FORMAT_EXTENSIBLE and size >= 40 and len(body) >= 40:
        guid = body[24:40]
        if guid[2:] == _SUBFORMAT_SUFFIX:
            subformat = guid[0] | guid[1] << 8
            name = f"extensible ({format_name(subformat)})"
    return WavInfo(tag, name, channels, rate, bits, subformat)


def inspect_wav_reader(read: _Reader, size: int) -> WavInfo:
    """Inspect a WAV of ``size`` bytes through ``read(offset, length)``.

    Only the RIFF header and the chunk headers up to the fmt chunk are read;
    chunk bodies are skipped, however large. ``read`` may return fewer bytes
    than asked near the end of the source.

    :raises NotWavError: not a RIFF/WAVE file, or the header is incomplete.
    """
    head = read(0, 12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise NotWavError(_looks_like(read(0, 64)))
    offset = 12
    for _ in range(MAX_CHUNKS):
        header = read(offset, 8)
        if len(header) < 8:
            raise NotWavError(f"is truncated: no fmt chunk within its first {size} bytes")
        chunk_id, chunk_size = header[:4], int.from_bytes(header[4:], "little")
        if chunk_id == b"fmt ":
            return _read_fmt(read, offset + 8, chunk_size)
        offset += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
    raise NotWavError(f"is a damaged WAV file: no fmt chunk among its first {MAX_CHUNKS} chunks")


def _read_fmt(read: _Reader, offset: int, chunk_size: int) -> WavInfo:
    if chunk_size < 16:
        raise NotWavError(f"is a damaged WAV file: its fmt chunk has only {chunk_size} bytes")
    body = read(offset, min(chunk_size, 40))
    if len(body) < 16:
        raise NotWavError(f"is truncated: the WAV header ends inside the fmt chunk (byte {offset + len(body)})")
    return _parse_fmt(body, chunk_size)


def inspect_wav(data: bytes | bytearray | memoryview) -> WavInfo:
    """Inspect WAV bytes; a prefix of the file (the first few KB) is enough.

    :raises NotWavError: says what the data looks like instead.
    """
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else data

    def read(offset: int, length: int) -> bytes:
        return bytes(view[offset : offset + length])

    return inspect_wav_reader(read, len(view))
