"""AES-256-GCM envelope encryption for secrets stored in PostgreSQL, with key rotation.

Every secret gets its own random 256-bit data key. The value is sealed with the data key and
the data key is wrapped with a master key, both under the caller's row id (for example
``"git_token:42"``) as associated data, so a ciphertext copied into another row does not
decrypt. A token is one ASCII string that fits a ``text`` column::

    v1.<key id>.<b64url(wrap nonce | wrapped data key)>.<b64url(value nonce | ciphertext)>

Rotation only re-wraps the 60-byte data key under the current master key; the value
ciphertext is kept as it is.

Master keys come from ``IDE_SECRET_KEY`` or, when that is unset, from ``<data-dir>/secret.key``
(created on first use). Both hold one or more entries separated by commas or newlines, each
either ``base64`` (32 bytes; its key id is derived from the key) or ``id:base64``. The first
entry is the current key used for new secrets; the rest only decrypt older ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .durable import fsync_path

ENV_VAR = "IDE_SECRET_KEY"
KEY_FILENAME = "secret.key"

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SecretError(Exception):
    """A secret could not be decrypted or the master keys are unusable.

    Messages name the key id or the file at fault, never key material or plaintext.
    """


class SecretBox:
    """Encrypts and decrypts secrets under a set of master keys; the first one is current.

    The constructor only stores keys; :meth:`from_environment` does the reading (and the
    key file creation).
    """

    __slots__ = ("_current_id", "_keys")

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise SecretError("at least one master key is required")
        table: dict[str, AESGCM] = {}
        for key_id, key in keys:
            _check_key_id(key_id)
            if len(key) != KEY_BYTES:
                raise SecretError(f"master key {key_id!r} must be {KEY_BYTES} bytes")
            if key_id in table:
                raise SecretError(f"master key id {key_id!r} is listed twice")
            table[key_id] = AESGCM(key)
        self._keys = table
        self._current_id = keys[0][0]

    @classmethod
    def from_spec(cls, spec: str) -> SecretBox:
        """Build a box from the ``IDE_SECRET_KEY`` / key file syntax described above."""
        return cls(parse_key_spec(spec))

    @classmethod
    def from_environment(
        cls, data_dir: Path, environ: Mapping[str, str] | None = None
    ) -> SecretBox:
        """Master keys from ``IDE_SECRET_KEY``, else from ``<data_dir>/secret.key``.

        The key file is created with a fresh random key when missing, and refused when
        anyone but its owner may read or write it.
        """
        env = os.environ if environ is None else environ
        spec = env.get(ENV_VAR, "")
        if spec.strip():
            return cls.from_spec(spec)
        return cls.from_spec(load_or_create_key_file(Path(data_dir) / KEY_FILENAME))

    @property
    def current_key_id(self) -> str:
        return self._current_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def __repr__(self) -> str:
        return f"SecretBox(current={self._current_id!r}, keys={list(self._keys)!r})"

    def encrypt(self, plaintext: str, aad: str) -> str:
        """Seal ``plaintext`` for the row named by ``aad`` under the current master key."""
        row = _row_id_bytes(aad)
        data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        value_nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(data_key).encrypt(value_nonce, plaintext.encode("utf-8"), _value_aad(row))
        wrapped = self._wrap(data_key, row)
        return _format(self._current_id, wrapped, value_nonce + sealed)

    def decrypt(self, token: str, aad: str) -> str:
        """Open a token made by :meth:`encrypt` for the same row id.

        Raises :class:`SecretError` if the token is malformed or was altered, if ``aad`` is
        not the row id it was sealed for, or if its master key is not configured.
        """
        _, _, _, plaintext = self._open(token, _row_id_bytes(aad))
        return plaintext

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` is wrapped under a key other than the current one."""
        key_id, _, _ = _parse(token)
        return key_id != self._current_id

    def rotate(self, token: str, aad: str) -> str:
        """Return ``token`` with its data key re-wrapped under the current master key.

        The whole token is verified first, so rotation never carries a damaged secret
        forward. A token already under the current key comes back unchanged.
        """
        row = _row_id_bytes(aad)
        key_id, data_key, sealed, _ = self._open(token, row)
        if key_id == self._current_id:
            return token
        return _format(self._current_id, self._wrap(data_key, row), sealed)

    def _open(self, token: str, row: bytes) -> tuple[str, bytes, bytes, str]:
        """Verify and decrypt a token: (key id, data key, sealed value, plaintext)."""
        key_id, wrapped, sealed = _parse(token)
        data_key = self._unwrap(key_id, wrapped, row)
        try:
            plaintext = AESGCM(data_key).decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _value_aad(row)
            )
        except InvalidTag:
            raise SecretError(
                "secret does not decrypt: its ciphertext was altered or belongs to another row"
            ) from None
        try:
            return key_id, data_key, sealed, plaintext.decode("utf-8")
        except UnicodeDecodeError:
            # Unreachable for tokens we made, whose bytes are authenticated.
            raise SecretError("secret is not valid UTF-8") from None

    def _wrap(self, data_key: bytes, row: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        aad = _wrap_aad(self._current_id, row)
        return nonce + self._keys[self._current_id].encrypt(nonce, data_key, aad)

    def _unwrap(self, key_id: str, wrapped: bytes, row: bytes) -> bytes:
        master = self._keys.get(key_id)
        if master is None:
            raise SecretError(
                f"secret was encrypted under master key {key_id!r}, which is not configured"
            )
        try:
            return master.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(key_id, row)
            )
        except InvalidTag:
            raise SecretError(
                f"secret does not decrypt under master key {key_id!r}: wrong key, altered "
                "data, or a ciphertext that belongs to another row"
            ) from None


def generate_key_spec() -> str:
    """A fresh random master key in the ``base64`` form accepted by ``IDE_SECRET_KEY``."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def parse_key_spec(spec: str) -> list[tuple[str, bytes]]:
    """Split ``IDE_SECRET_KEY`` / key file text into ``(key id, key)`` pairs, current first."""
    entries = [e.strip() for e in re.split(r"[,\n]", spec) if e.strip()]
    if not entries:
        raise SecretError("no master key given")
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.partition(":")
        if not sep:
            key_id, encoded = "", entry
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            # Name the position only: the entry itself may be a (mistyped) key.
            raise SecretError(f"master key entry {position} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise SecretError(f"master key entry {position} must decode to {KEY_BYTES} bytes")
        keys.append((key_id.strip() or derive_key_id(key), key))
    return keys


def derive_key_id(key: bytes) -> str:
    """A stable id for a key given without one, so its tokens still find it later."""
    # A truncated hash of a 256-bit random key reveals nothing usable about the key.
    return "k" + hashlib.sha256(b"ide-server master key id\x00" + key).hexdigest()[:12]


def load_or_create_key_file(path: Path) -> str:
    """Return the key file's text, creating it with a new random key if it is missing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return _read_private_file(path)
    except FileNotFoundError:
        pass
    _create_key_file(path, generate_key_spec() + "\n")
    # Read back whatever won: another process may have created the file first.
    return _read_private_file(path)


def _read_private_file(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        # fstat the open descriptor so the file checked is the file read.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SecretError(f"key file {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & ~0o600:
            raise SecretError(
                f"key file {path} has mode {mode:04o}; refusing to use it until it is 0600 "
                f"(chmod 600 {path})"
            )
        with os.fdopen(fd, "r", encoding="ascii", closefd=False) as handle:
            text = handle.read()
    finally:
        os.close(fd)
    if not text.strip():
        raise SecretError(f"key file {path} is empty")
    return text


def _create_key_file(path: Path, text: str) -> None:
    # Write a private temp file in full, then hard-link it into place: link() fails if the
    # name exists (like O_EXCL) and readers never see a half-written key.
    temp = path.with_name(f".{path.name}.{os.urandom(8).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # independent of the umask
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            return
        fsync_path(path.parent)
    finally:
        temp.unlink(missing_ok=True)


def _check_key_id(key_id: str) -> None:
    if not isinstance(key_id, str) or not KEY_ID_PATTERN.fullmatch(key_id):
        raise SecretError("master key ids are 1-64 characters of letters, digits, '_' and '-'")


def _row_id_bytes(aad: str) -> bytes:
    if not isinstance(aad, str) or not aad:
        # A missing row id would make ciphertexts movable between rows: a caller bug.
        raise ValueError("aad must be the non-empty row id the secret belongs to")
    return aad.encode("utf-8")


def _wrap_aad(key_id: str, row: bytes) -> bytes:
    # Binds the version and key id in the header too; the labels keep the two layers'
    # ciphertexts from standing in for each other.
    return f"{VERSION}\x00wrap\x00{key_id}\x00".encode("ascii") + row


def _value_aad(row: bytes) -> bytes:
    # No key id here, so rotation can re-wrap the data key without touching the value.
    return f"{VERSION}\x00value\x00".encode("ascii") + row


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("secret token is malformed") from None
    # Refuse non-canonical spellings so that any change to the token string is detected.
    if _b64encode(raw) != text:
        raise SecretError("secret token is malformed")
    return raw


def _format(key_id: str, wrapped: bytes, sealed: bytes) -> str:
    return ".".join((VERSION, key_id, _b64encode(wrapped), _b64encode(sealed)))


def _parse(token: str) -> tuple[str, bytes, bytes]:
    if not isinstance(token, str):
        raise SecretError("secret token must be a string")
    parts = token.split(".")
    if len(parts) != 4:
        raise SecretError("secret token is malformed")
    version, key_id, wrapped_text, sealed_text = parts
    if version != VERSION:
        raise SecretError(f"secret token version {version[:8]!r} is not supported")
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise SecretError("secret token is malformed")
    wrapped = _b64decode(wrapped_text)
    sealed = _b64decode(sealed_text)
    if len(wrapped) != WRAPPED_BYTES or len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise SecretError("secret token is malformed")
    return key_id, wrapped, sealed
