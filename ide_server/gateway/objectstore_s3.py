"""An S3-compatible bucket as the object store, through boto3.

Every object is written server-side encrypted (``AES256``, or ``aws:kms`` with a key id).
S3-compatible stores (MinIO, Ceph, moto, ...) need path-style addressing and, since
botocore 1.36, checksums sent and checked only when an operation requires them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from ..config import Config
from .objectstore import ObjectMissing, StoreUnavailable

SSE_MODES = ("AES256", "aws:kms")
_MISSING = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint_url: str = ""
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    path_style: bool = True
    checksums: str = "when_required"  # or "when_supported" (AWS itself)
    sse: str = "AES256"
    kms_key_id: str = ""
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.bucket:
            raise SystemExit("IDE_S3_BUCKET: the S3 store needs a bucket")
        if self.sse not in SSE_MODES:
            raise SystemExit(f"IDE_S3_SSE: {self.sse!r} is not one of {', '.join(SSE_MODES)}")
        if self.sse == "aws:kms" and not self.kms_key_id:
            raise SystemExit("IDE_S3_KMS_KEY_ID: aws:kms encryption needs a key id")
        if self.checksums not in ("when_required", "when_supported"):
            raise SystemExit("IDE_S3_CHECKSUMS: when_required or when_supported")

    @classmethod
    def from_config(cls, config: Config) -> S3Settings:
        return cls(
            bucket=config.s3_bucket,
            endpoint_url=config.s3_endpoint_url,
            region=config.s3_region,
            access_key_id=config.s3_access_key_id,
            secret_access_key=config.s3_secret_access_key,
            path_style=config.s3_path_style,
            checksums=config.s3_checksums,
            sse=config.s3_sse,
            kms_key_id=config.s3_kms_key_id,
        )

    def encryption(self) -> dict[str, str]:
        """The SSE arguments of every PutObject."""
        if self.sse == "aws:kms":
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}


class S3Store:
    """The client is built on first use: constructing the store does no I/O."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            s = self.settings
            config = botocore.config.Config(
                region_name=s.region,
                signature_version="s3v4",
                s3={"addressing_style": "path" if s.path_style else "auto"},
                request_checksum_calculation=s.checksums,
                response_checksum_validation=s.checksums,
                connect_timeout=s.timeout,
                read_timeout=s.timeout,
                retries={"max_attempts": 2, "mode": "standard"},  # the collector backs off
            )
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=s.endpoint_url or None,
                aws_access_key_id=s.access_key_id or None,
                aws_secret_access_key=s.secret_access_key or None,
                config=config,
            )
        return self._client

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self._s3().put_object(
                Bucket=self.settings.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                **self.settings.encryption(),
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise StoreUnavailable(f"could not upload {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            answer = self._s3().get_object(Bucket=self.settings.bucket, Key=key)
            return bytes(answer["Body"].read())
        except botocore.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                raise ObjectMissing(key) from None
            raise StoreUnavailable(f"could not read {key}: {exc}") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise StoreUnavailable(f"could not read {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:  # S3 answers 204 for a key that is not there
            self._s3().delete_object(Bucket=self.settings.bucket, Key=key)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise StoreUnavailable(f"could not delete {key}: {exc}") from exc

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
