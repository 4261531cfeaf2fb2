"""Starts what a browser test talks to and prints it as one JSON line: a fresh database (in the
ctest Postgres cluster, or a private one), a migrated heraldd with an admin and a CIS key, and on
request a local SMTP server that writes each mail it receives to a JSON file, the fake Twilio as
the SMS gateway, and TOML added to the repository's config file. Stops it all when its standard
input closes (the test ended, or died).

    python3 tests/web/stack.py '{"smtp": true, "twilio": true, "config": "[rules...]", "env": {"HERALD_...": "..."}}'
"""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

from herald_e2e import Heraldd, PgCluster, find_heraldd  # noqa: E402


def main() -> int:
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    cluster = PgCluster.from_env_or_private()
    database = cluster.create_database(prefix="web")
    sink = None
    twilio = None
    config_path = ""
    herald = None
    try:
        env = {"HERALD_CHANNELS_SMS": "log", "HERALD_CHANNELS_EMAIL": "log", "HERALD_CHANNELS_VOICE": "log"}
        mail_dir = ""
        if options.get("smtp"):
            from smtp_sink import SmtpSink
            mail_dir = options.get("mail_dir") or os.path.join(cluster.dir, f"mail-{database.name}")
            os.makedirs(mail_dir, exist_ok=True)
            counter = iter(range(1, 1 << 30))

            def keep(mail) -> None:
                record = {"to": mail.envelope_to, "from": mail.envelope_from,
                          "subject": str(mail.message.get("Subject", "")),
                          "text": mail.part("text/plain") or "", "html": mail.part("text/html") or ""}
                path = os.path.join(mail_dir, f"{next(counter):06d}.json")
                with open(path + ".tmp", "w") as f:
                    json.dump(record, f)
                os.replace(path + ".tmp", path)  # a reader never sees half a mail

            sink = SmtpSink(on_message=keep).start()
            env.update(sink.gateway_env("SMTP"))
            env["HERALD_CHANNELS_EMAIL"] = "smtp"
        twilio_auth_token = ""
        if options.get("twilio"):
            from fake_twilio import FakeTwilio
            twilio = FakeTwilio().start()
            env.update(twilio.gateway_env("TWILIO"))
            env["HERALD_CHANNELS_SMS"] = "twilio"
            twilio_auth_token = twilio.auth_token
        if options.get("config"):
            # The repository's config (as an operator runs it) plus the test's own tables.
            with open(os.path.join(HERE, "..", "..", "config", "heraldd.toml")) as f:
                config = f.read()
            config_path = os.path.join(cluster.dir, f"heraldd-{database.name}.toml")
            with open(config_path, "w") as f:
                f.write(config + "\n" + options["config"] + "\n")
            env["HERALD_CONFIG"] = config_path
        env.update(options.get("env", {}))
        herald = Heraldd(find_heraldd(), database.url, env)
        herald.migrate()
        herald.provision_keys()
        herald.start()
        print(json.dumps({"base_url": herald.base_url, "admin_key": herald.admin_key, "cis_key": herald.cis_key,
                          "mail_dir": mail_dir, "twilio_auth_token": twilio_auth_token, "database_url": database.url, "heraldd": herald.binary,
                          "cli_env": {k: v for k, v in herald.env.items() if k.startswith("HERALD_")},
                          "log": herald.log_path}), flush=True)
        sys.stdin.read()  # until the test closes it
        rc = herald.terminate(timeout=60)
        if rc != 0:
            print(f"heraldd exited {rc} after SIGTERM:\n{herald.log_tail(40)}", file=sys.stderr)
            return 1
        return 0
    finally:
        if herald is not None and herald.running:
            herald.kill9()
        if sink is not None:
            sink.stop()
        if twilio is not None:
            twilio.stop()
        if config_path:
            os.unlink(config_path)
        database.drop()
        if cluster.owned:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
