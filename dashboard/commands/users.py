"""`jingbao users`: the accounts that sign in, their roles and scopes, and their long-lived tokens.

    jingbao users create NAME --role ROLE [--city ADCODE] [--districts A,B] [--insurer CODE] --password-stdin
    jingbao users list | disable NAME | enable NAME | reset-password NAME --password-stdin
    jingbao users token NAME --kind kiosk|read       (a wall account's kiosk link, or an API read token)
    jingbao users revoke-tokens NAME [--kind kiosk|read]

A wall account is created with a kiosk link at once, printed for the screen; its token is stored hashed and opens
nothing but the wall. Every change is written to the audit log."""

from __future__ import annotations

import getpass
import json
import sys

from dashboard.arguments import EXIT_USAGE, OneLineParser, adcode_arg, adcodes_arg
from data_access.scope import ROLES


def register(commands) -> None:
    users = commands.add_parser("users", help="accounts that sign in: create, list, disable, reset passwords")
    actions = users.add_subparsers(dest="action", required=True, parser_class=OneLineParser)
    create = actions.add_parser("create", help="a new account with a role and a scope")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--city", type=adcode_arg, help="the account's city (district and wall: required)")
    create.add_argument("--districts", type=adcodes_arg, default=(), help="district adcodes, comma-separated")
    create.add_argument("--insurer", default="", help="the insurer's code (insurer accounts)")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = actions.add_parser("list", help="every account with its role and scope (never a password)")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    for action, text in (("disable", "disable an account: its sessions and tokens stop at once"),
                         ("enable", "enable a disabled account again")):
        actions.add_parser(action, help=text).add_argument("name")
    reset = actions.add_parser("reset-password", help="a new password; the account's open sessions end")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    token = actions.add_parser("token", help="a kiosk link (wall accounts) or an API read token, shown once")
    token.add_argument("name")
    token.add_argument("--kind", choices=("kiosk", "read"), default="read")
    revoke = actions.add_parser("revoke-tokens", help="revoke an account's tokens (kiosk links stop at once)")
    revoke.add_argument("name")
    revoke.add_argument("--kind", choices=("kiosk", "read"))
    users.set_defaults(handler=run)


def _password(args) -> str:
    if getattr(args, "password_stdin", False) or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _kiosk_link(settings, token: str) -> str:
    return f"http://{settings.host}:{settings.port}/wall?kiosk={token}"


def run(args, settings) -> int:
    from data_access import accounts, audit
    from services.runtime import open_database

    db = open_database(settings)
    db.create_schema()
    who = getpass.getuser()
    try:
        if args.action == "create":
            password = None if args.role == "wall" else _password(args)
            if args.role != "wall" and not password and settings.auth == "local":
                raise accounts.AccountError("a password is needed (--password-stdin)")
            info = accounts.create_account(db, args.name, args.role, city=args.city, districts=args.districts,
                                           insurer=args.insurer, password=password or None)
            audit.record(db, "account_created", info.name, "", by=who, role=info.role, scope=info.describe_scope())
            print(f"created {info.role} account {info.name} ({info.describe_scope()})")
            if info.role == "wall":
                token = accounts.create_token(db, info.name, "kiosk")
                audit.record(db, "token_created", info.name, "", by=who, kind="kiosk")
                print(f"kiosk link (shown once; revoke with `jingbao users revoke-tokens {info.name}`):")
                print(_kiosk_link(settings, token))
        elif args.action == "list":
            rows = accounts.list_accounts(db)
            if args.format == "json":
                print(json.dumps([{"name": a.name, "role": a.role, "city": a.city, "districts": list(a.districts),
                                   "insurer": a.insurer_code, "disabled": a.disabled} for a in rows],
                                 ensure_ascii=False, indent=2))
            else:
                for a in rows:
                    state = "disabled" if a.disabled else "active"
                    print(f"{a.name:<24}{a.role:<10}{state:<10}{a.describe_scope()}")
        elif args.action in ("disable", "enable"):
            info = (accounts.disable_account if args.action == "disable" else accounts.enable_account)(db, args.name)
            audit.record(db, "account_changed", info.name, "", by=who, change=args.action)
            print(f"{args.action}d {info.name}")
        elif args.action == "reset-password":
            accounts.set_password(db, args.name, _password(args))
            audit.record(db, "account_changed", args.name, "", by=who, change="password reset")
            print(f"new password set for {args.name}; its open sessions have ended")
        elif args.action == "token":
            token = accounts.create_token(db, args.name, args.kind)
            audit.record(db, "token_created", args.name, "", by=who, kind=args.kind)
            print(_kiosk_link(settings, token) if args.kind == "kiosk" else token)
        elif args.action == "revoke-tokens":
            count = accounts.revoke_tokens(db, args.name, args.kind)
            audit.record(db, "token_revoked", args.name, "", by=who, kind=args.kind or "all", count=count)
            print(f"revoked {count} token(s) of {args.name}")
    except (accounts.AccountError, ValueError) as exc:
        print(f"jingbao: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0
