"""
moto's S3 server with its buckets kept in a data directory across restarts, for the chaos suite.

moto keeps objects in memory only; an S3 server that is stopped and started again must still hold
the checkpoints written before. On SIGTERM (or SIGINT) this writes the buckets to
<data-dir>/s3-buckets.pickle and exits; at start it loads them from there, if present. A SIGKILL
loses what was written since the last start, as a crashed in-memory store would.

  python3 chaos/s3-server.py --host ADDR --port PORT --data-dir DIR
"""

import argparse
import os
import pickle
import signal
import sys

from moto.s3.models import s3_backends
from moto.server import main as moto_main

parser = argparse.ArgumentParser()
parser.add_argument("--host", required=True)
parser.add_argument("--port", required=True)
parser.add_argument("--data-dir", required=True)
args = parser.parse_args()
os.makedirs(args.data_dir, exist_ok=True)
path = os.path.join(args.data_dir, "s3-buckets.pickle")
ACCOUNT = "123456789012"


def backend():
    return s3_backends[ACCOUNT]["aws"]


if os.path.exists(path):
    with open(path, "rb") as f:
        backend().buckets.update(pickle.load(f))


def save_and_exit(signum, frame):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(dict(backend().buckets), f)
    os.replace(tmp, path)
    sys.stderr.write("s3-server: buckets saved to %s\n" % path)
    sys.stderr.flush()
    os._exit(0)


signal.signal(signal.SIGTERM, save_and_exit)
signal.signal(signal.SIGINT, save_and_exit)
# moto's main installs handlers of its own that exit without saving: keep these.
_signal = signal.signal
signal.signal = lambda s, h: None if s in (signal.SIGTERM, signal.SIGINT) else _signal(s, h)
moto_main(["--host", args.host, "--port", args.port])
