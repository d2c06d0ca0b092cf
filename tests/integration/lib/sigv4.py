#!/usr/bin/python3
"""Sends one ECS JSON 1.1 request, signed with AWS SigV4 (or deliberately not,
or badly), and prints the HTTP status on the first line and the body after it.

The negative API tests use it where the aws CLI cannot misbehave on purpose:
a stale X-Amz-Date, a body changed after signing, no Authorization at all,
raw bodies (malformed JSON, wrong types) the aws CLI would refuse to send.

  sigv4.py --endpoint http://127.0.0.1:PORT --action ListClusters \
           [--body JSON | --body-file PATH] [--key-id ID --secret S]
           [--region local] [--age SECONDS] [--send-body JSON] [--no-auth]
           [--target-prefix P]
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import sys
import urllib.parse

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def sign(method, host, headers, body, key_id, secret, region, service, when):
    """Returns the headers to add: X-Amz-Date and Authorization.  HEADERS
    (name -> value) are all signed, with host and x-amz-date."""
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed["host"] = host
    signed["x-amz-date"] = amz_date
    names = sorted(signed)
    canonical = "\n".join([
        method, "/", "",
        "".join(f"{n}:{signed[n]}\n" for n in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, scope,
        hashlib.sha256(canonical.encode()).hexdigest(),
    ])
    sig = hmac.new(signing_key(secret, date, region, service),
                   to_sign.encode(), hashlib.sha256).hexdigest()
    auth = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return {"X-Amz-Date": amz_date, "Authorization": auth}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--action", required=True)
    ap.add_argument("--target-prefix", default=TARGET_PREFIX)
    ap.add_argument("--body")
    ap.add_argument("--body-file")
    ap.add_argument("--send-body", help="body actually sent (signature covers --body)")
    ap.add_argument("--key-id")
    ap.add_argument("--secret")
    ap.add_argument("--region", default="local")
    ap.add_argument("--service", default="ecs")
    ap.add_argument("--age", type=int, default=0, help="X-Amz-Date this many seconds ago")
    ap.add_argument("--no-auth", action="store_true")
    a = ap.parse_args()

    if a.body_file:
        with open(a.body_file, "rb") as f:
            body = f.read()
    else:
        body = (a.body if a.body is not None else "{}").encode()
    sent = a.send_body.encode() if a.send_body is not None else body

    url = urllib.parse.urlsplit(a.endpoint)
    host = url.netloc
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": a.target_prefix + a.action,
    }
    if not a.no_auth:
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=a.age)
        headers.update(sign("POST", host, headers, body, a.key_id, a.secret,
                            a.region, a.service, when))
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", "/", body=sent, headers=headers)
    except ConnectionError:
        pass  # the server may answer (413) and close before reading all the body
    try:
        resp = conn.getresponse()
        data = resp.read()
    except (ConnectionError, http.client.HTTPException) as e:
        print(f"000\n{e}")
        return 0
    print(resp.status)
    sys.stdout.write(data.decode(errors="replace") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
