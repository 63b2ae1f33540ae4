"""Container entry point: write homeserver.yaml into /data from the environment, then become Synapse."""

import os
import sys
from pathlib import Path

from bootstrap.homeserver import LocalSynapse

PORT = 8008


def main() -> None:
    env = os.environ
    server = LocalSynapse(
        base_dir=Path(env.get("SYNAPSE_DATA_DIR", "/data")),
        port=PORT,
        server_name=env.get("SYNAPSE_SERVER_NAME", "localhost"),
        max_upload_mb=int(env.get("SYNAPSE_MAX_UPLOAD_MB", "50")),
        bind_address="0.0.0.0",  # noqa: S104 - inside the container; the host publishes it on 127.0.0.1
        public_baseurl=env.get("SYNAPSE_PUBLIC_BASEURL", f"http://localhost:{PORT}/"),
        registration_shared_secret=env.get("SYNAPSE_REGISTRATION_SHARED_SECRET") or None,
        log_to_file=False,
        encrypt_new_rooms=env.get("SYNAPSE_ENCRYPT_NEW_ROOMS", "") == "1",
    )
    config = server.write_config()
    os.chdir(server.base_dir)
    # exec: Synapse becomes PID 1 and gets the SIGTERM of `docker stop` itself.
    os.execv(sys.executable, [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)])  # noqa: S606


if __name__ == "__main__":
    main()
