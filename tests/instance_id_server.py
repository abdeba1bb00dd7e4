"""`python -m tests.instance_id_server -b HOST -p PORT APP`: takes Daphne's arguments, answers
every connection with its `UMS_INSTANCE_ID` and closes it (test_benchmark_instances_have_their_own_ids)."""

from __future__ import annotations

import argparse
import os
import socket

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-b")
    parser.add_argument("-p", type=int)
    parser.add_argument("application")
    args = parser.parse_args()
    with socket.create_server((args.b, args.p)) as server:
        while True:
            connection, _ = server.accept()
            with connection:
                connection.sendall(os.environ["UMS_INSTANCE_ID"].encode())
