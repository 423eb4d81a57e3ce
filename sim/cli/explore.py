"""``caseload-sim explore [SCENARIO]``: a local web page to move a scenario's levers and see the effect."""

from __future__ import annotations

import argparse

from sim.cli.options import add_lang, add_workers, positive_int


def register(sub) -> None:
    p = sub.add_parser(
        "explore",
        help="a local web page: move a scenario's main levers, see caseload, exits to work and the I-deel result",
        description="Serve a page on localhost (Dash): pick a bundled scenario, change werkmatcher FTE and caseload "
        "norms, an inflow shock, instrument places and budgets; the analytic model updates the lines at once, a few "
        "replications add the bands; download the report and workbook for what is on screen.",
    )
    p.add_argument("scenario", nargs="?", help="bundled scenario shown first (default: the bundled default)")
    p.add_argument("--years", type=positive_int, help="horizon in years (default: the scenario's)")
    p.add_argument("--replications", "-r", type=positive_int, default=4, help="replications per scenario for the bands")
    add_workers(p)
    add_lang(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import threading

    from sim.explore import model
    from sim.explore.app import make_app
    from sim.model.loader import default_name

    app = make_app(args.scenario, args.years, args.replications, args.workers, args.lang)
    # build (first run after installing) or load the compiled engine while the page is already served
    threading.Thread(target=model.warm_up, args=(args.scenario or default_name(),), daemon=True).start()
    url = f"http://{args.host}:{args.port}/"
    print(f"caseload-sim explore: {url} (Ctrl-C stops it)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    app.run(host=args.host, port=args.port, debug=False)
    return 0
