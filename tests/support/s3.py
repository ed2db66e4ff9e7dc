"""A real S3-compatible server on 127.0.0.1 (moto's server mode) for tests of STORAGE_URL=s3://...

`s3_server` starts it once per session on a free port and sets the AWS_* variables boto3 reads
(so the app, and any process a test starts, reach it); `s3_storage_url` gives each test a fresh
bucket as a STORAGE_URL. `bucket_keys` lists what a bucket holds.
"""

import os
import uuid

import pytest

from tests.support.live import free_port

REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """The endpoint URL of a moto S3 server; the AWS_* variables point boto3 at it while the session runs."""
    from moto.server import ThreadedMotoServer  # imported by the tests that use a bucket only

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    nowhere = str(tmp_path_factory.mktemp("aws") / "none")  # no ~/.aws profile of the machine's user
    variables = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere}
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield endpoint
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()


@pytest.fixture
def s3_storage_url(s3_server) -> str:
    """STORAGE_URL of a new, empty bucket (with a prefix, as a shared bucket would have)."""
    import boto3

    bucket = f"reels-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/studio"


def bucket_keys(storage_url: str) -> list[str]:
    """Every key in the bucket a STORAGE_URL names, sorted."""
    import boto3

    bucket = storage_url.removeprefix("s3://").split("/", 1)[0]
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
