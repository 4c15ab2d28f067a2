import base64
import os
import stat
import threading
from pathlib import Path

import pytest

from ide_server.secrets import (
    ENV_VAR,
    KEY_FILENAME,
    SecretBox,
    SecretError,
    derive_key_id,
    generate_key_spec,
    parse_key_spec,
)

ROW = "git_token:42"


def key_b64(fill: int) -> str:
    return base64.b64encode(bytes([fill]) * 32).decode()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox.from_spec(f"k1:{key_b64(1)}")


def flip_byte(token: str, segment: int, index: int) -> str:
    """Flip one bit of the decoded bytes of a token segment and re-encode it canonically."""
    parts = token.split(".")
    text = parts[segment]
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[index] ^= 0x01
    parts[segment] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return ".".join(parts)


def test_round_trip_and_format(box: SecretBox) -> None:
    token = box.encrypt("hunter2 ✓", ROW)
    assert token.startswith("v1.k1.")
    assert "hunter2" not in token
    assert token.isascii()
    assert box.decrypt(token, ROW) == "hunter2 ✓"
    assert box.decrypt(box.encrypt("", ROW), ROW) == ""


def test_nonces_and_data_keys_differ_between_encryptions(box: SecretBox) -> None:
    first = box.encrypt("same value", ROW)
    second = box.encrypt("same value", ROW)
    assert first != second
    _, _, wrapped1, sealed1 = first.split(".")
    _, _, wrapped2, sealed2 = second.split(".")
    # Nonces are the first 12 bytes of each segment.
    assert (
        base64.urlsafe_b64decode(wrapped1 + "==")[:12]
        != base64.urlsafe_b64decode(wrapped2 + "==")[:12]
    )
    assert sealed1[:16] != sealed2[:16]
    assert box.decrypt(first, ROW) == box.decrypt(second, ROW) == "same value"


@pytest.mark.parametrize(
    ("segment", "index"),
    [(2, 0), (2, 20), (2, 59), (3, 0), (3, 12), (3, -1)],
    ids=["wrap-nonce", "wrapped-key", "wrap-tag", "value-nonce", "ciphertext", "value-tag"],
)
def test_tampered_token_is_refused(box: SecretBox, segment: int, index: int) -> None:
    token = box.encrypt("s3cret", ROW)
    with pytest.raises(SecretError):
        box.decrypt(flip_byte(token, segment, index), ROW)


def test_any_change_to_the_token_string_is_refused(box: SecretBox) -> None:
    token = box.encrypt("s3cret", ROW)
    for position in range(len(token)):
        char = token[position]
        replacement = "A" if char != "A" else "B"
        changed = token[:position] + replacement + token[position + 1 :]
        with pytest.raises(SecretError):
            box.decrypt(changed, ROW)


def test_truncated_or_malformed_tokens_are_refused(box: SecretBox) -> None:
    token = box.encrypt("s3cret", ROW)
    for bad in [token[:-4], "", "v1", "v2" + token[2:], token + ".x", "not a token", token + "="]:
        with pytest.raises(SecretError):
            box.decrypt(bad, ROW)


def test_swapping_rows_is_refused(box: SecretBox) -> None:
    token = box.encrypt("s3cret", "git_token:42")
    for other in ["git_token:43", "warehouse_password:42", "git_token:42 ", "GIT_TOKEN:42"]:
        with pytest.raises(SecretError, match="another row"):
            box.decrypt(token, other)


def test_swapping_data_key_between_tokens_is_refused(box: SecretBox) -> None:
    first = box.encrypt("one", ROW).split(".")
    second = box.encrypt("two", ROW).split(".")
    spliced = ".".join([first[0], first[1], first[2], second[3]])
    with pytest.raises(SecretError):
        box.decrypt(spliced, ROW)


def test_empty_aad_is_a_caller_error(box: SecretBox) -> None:
    with pytest.raises(ValueError):
        box.encrypt("x", "")


def test_wrong_master_key_is_refused(box: SecretBox) -> None:
    token = box.encrypt("s3cret", ROW)
    impostor = SecretBox.from_spec(f"k1:{key_b64(2)}")
    with pytest.raises(SecretError, match="'k1'"):
        impostor.decrypt(token, ROW)


def test_unknown_key_id_is_refused(box: SecretBox) -> None:
    token = box.encrypt("s3cret", ROW)
    other = SecretBox.from_spec(f"k2:{key_b64(1)}")
    with pytest.raises(SecretError, match="not configured"):
        other.decrypt(token, ROW)
    # Relabelling the token with a configured id does not help either.
    both = SecretBox.from_spec(f"k2:{key_b64(1)},k1:{key_b64(3)}")
    with pytest.raises(SecretError):
        both.decrypt(token.replace("v1.k1.", "v1.k2.", 1), ROW)


def test_rotation_round_trip() -> None:
    old = SecretBox.from_spec(f"old:{key_b64(1)}")
    token = old.encrypt("warehouse-password", ROW)
    assert not old.needs_rotation(token)

    rotated_config = SecretBox.from_spec(f"new:{key_b64(2)}, old:{key_b64(1)}")
    assert rotated_config.current_key_id == "new"
    assert rotated_config.needs_rotation(token)
    assert rotated_config.decrypt(token, ROW) == "warehouse-password"

    rotated = rotated_config.rotate(token, ROW)
    assert rotated.startswith("v1.new.")
    assert not rotated_config.needs_rotation(rotated)
    assert rotated_config.rotate(rotated, ROW) == rotated
    # The value ciphertext is kept; only the data key was re-wrapped.
    assert rotated.split(".")[3] == token.split(".")[3]

    # Once rotated, the old key can be retired.
    retired = SecretBox.from_spec(f"new:{key_b64(2)}")
    assert retired.decrypt(rotated, ROW) == "warehouse-password"
    with pytest.raises(SecretError, match="not configured"):
        retired.decrypt(token, ROW)


def test_rotation_refuses_damaged_or_misfiled_tokens() -> None:
    old = SecretBox.from_spec(f"old:{key_b64(1)}")
    token = old.encrypt("x", ROW)
    current = SecretBox.from_spec(f"new:{key_b64(2)},old:{key_b64(1)}")
    with pytest.raises(SecretError):
        current.rotate(token, "git_token:7")
    with pytest.raises(SecretError):
        current.rotate(flip_byte(token, 3, 14), ROW)


def test_key_spec_parsing() -> None:
    plain = key_b64(9)
    [(key_id, key)] = parse_key_spec(plain)
    assert key == bytes([9]) * 32
    assert key_id == derive_key_id(key)
    assert [k for k, _ in parse_key_spec(f"a:{key_b64(1)}\nb:{key_b64(2)},")] == ["a", "b"]
    assert len(base64.b64decode(generate_key_spec())) == 32


@pytest.mark.parametrize(
    "spec",
    ["", " , ", "a:notbase64!", f"a:{base64.b64encode(b'short').decode()}", "bad id:" + key_b64(1)],
)
def test_bad_key_specs_are_refused(spec: str) -> None:
    with pytest.raises(SecretError):
        SecretBox.from_spec(spec)


def test_duplicate_key_ids_are_refused() -> None:
    with pytest.raises(SecretError, match="twice"):
        SecretBox.from_spec(f"a:{key_b64(1)},a:{key_b64(2)}")


def test_error_messages_and_repr_hold_no_key_material() -> None:
    spec = f"a:{key_b64(7)}"
    box = SecretBox.from_spec(spec)
    assert key_b64(7) not in repr(box)
    with pytest.raises(SecretError) as caught:
        SecretBox.from_spec("a:" + key_b64(7)[:-4] + "!!!!")
    assert key_b64(7)[:20] not in str(caught.value)


def test_environment_key_takes_precedence(tmp_path: Path) -> None:
    box = SecretBox.from_environment(tmp_path, {ENV_VAR: f"env:{key_b64(4)}"})
    assert box.current_key_id == "env"
    assert not (tmp_path / KEY_FILENAME).exists()


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    box = SecretBox.from_environment(data_dir, {})
    key_file = data_dir / KEY_FILENAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = box.encrypt("s3cret", ROW)

    again = SecretBox.from_environment(data_dir, {ENV_VAR: "  "})
    assert again.current_key_id == box.current_key_id
    assert again.decrypt(token, ROW) == "s3cret"
    # The same key given through the environment keeps decrypting (same derived id).
    from_env = SecretBox.from_environment(tmp_path, {ENV_VAR: key_file.read_text().strip()})
    assert from_env.decrypt(token, ROW) == "s3cret"
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILENAME]


def test_key_file_created_under_a_permissive_umask_is_still_private(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        SecretBox.from_environment(tmp_path, {})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / KEY_FILENAME).stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700])
def test_key_file_with_open_mode_is_refused(tmp_path: Path, mode: int) -> None:
    SecretBox.from_environment(tmp_path, {})
    key_file = tmp_path / KEY_FILENAME
    key_file.chmod(mode)
    with pytest.raises(SecretError, match="chmod 600"):
        SecretBox.from_environment(tmp_path, {})


def test_key_file_with_narrower_mode_is_accepted(tmp_path: Path) -> None:
    SecretBox.from_environment(tmp_path, {})
    (tmp_path / KEY_FILENAME).chmod(0o400)
    SecretBox.from_environment(tmp_path, {})


def test_empty_key_file_is_refused_not_replaced(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILENAME
    key_file.touch(mode=0o600)
    with pytest.raises(SecretError, match="empty"):
        SecretBox.from_environment(tmp_path, {})
    assert key_file.read_text() == ""


def test_key_file_may_list_several_keys_for_rotation(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILENAME
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, f"new:{key_b64(2)}\nold:{key_b64(1)}\n".encode())
    os.close(fd)
    box = SecretBox.from_environment(tmp_path, {})
    assert box.key_ids == ("new", "old")


def test_concurrent_first_start_agrees_on_one_key(tmp_path: Path) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(SecretBox.from_environment(tmp_path, {}).current_key_id)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILENAME]
