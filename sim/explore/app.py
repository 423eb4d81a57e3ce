"""The explore page: Dash layout and callbacks over :mod:`sim.explore.model`.

Why Dash (docs/outputs.md, "explore"): every interaction is one HTTP request to
a plain Python callback, so the page has no session state to lose, the
callbacks can be tested as functions, and the instant analytic update and the
slower replications are two callbacks on the same controls. Streamlit reruns
the whole script on every change, which fights "lines now, bands later";
Panel would add Bokeh's stack for what a few inputs and images need.
"""

from __future__ import annotations

import base64
from pathlib import Path

import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from plotly.subplots import make_subplots

from sim.explore import model
from sim.model import ScenarioError, bundled_names
from sim.util.i18n import Texts, choose_lang

FIELD = {"display": "block", "margin": "0.5em 0 0.2em", "fontSize": "0.9em"}
INPUT = {"width": "9em"}
# a number input whose value breaks its step (100 with min 1, step 5) is sent as None: steps of 1 or "any"
LEVER_INPUTS = {"fte": "fte", "norm": "norm", "places": "places"}


def make_app(scenario: str | None = None, years: int | None = None, replications: int = 4, workers: int = 1,
             lang: str | None = None) -> Dash:  # fmt: skip
    """The page for a bundled ``scenario`` (default: the bundled default), ``replications`` for the bands."""
    from sim.model.loader import default_name

    first = scenario or default_name()
    t = Texts(choose_lang(lang, [model.load_scenario_cached(first)]))
    names = [n for n in bundled_names() if _valid(n)]
    app = Dash(__name__, title=t("explore.title"), update_title=None)
    app.layout = html.Div(style={"fontFamily": "DejaVu Sans, Arial, sans-serif", "margin": "1em 2em"}, children=[
        html.H1(t("explore.title"), style={"color": "#1f4e79", "marginBottom": "0.2em"}),
        html.P(t("explore.intro", n=replications), style={"color": "#444", "maxWidth": "60em"}),
        html.Div(style={"display": "flex", "gap": "2em", "alignItems": "flex-start"}, children=[
            html.Div(style={"flex": "0 0 20em"}, children=[
                html.Label(t("explore.scenario"), style=FIELD),
                dcc.Dropdown(id="scenario", value=first, clearable=False,
                             options=[{"label": model.load_scenario_cached(n).name, "value": n} for n in names]),
                html.Label(t("explore.years"), style=FIELD),
                dcc.Input(id="years", type="number", min=1, max=30, step=1, debounce=0.8, style=INPUT,
                          value=years or model.load_scenario_cached(first).years),
                html.Div(id="levers"),
                html.H4(t("explore.inflow")),
                html.Label(t("explore.inflow_pct"), style=FIELD),
                dcc.Input(id="inflow-pct", type="number", value=0, step=1, min=-90, max=300, debounce=0.8, style=INPUT),
                html.Label(t("explore.inflow_year"), style=FIELD),
                dcc.Dropdown(id="inflow-year", clearable=False, style={"width": "9em"}),
                html.H4(t("explore.budgets")),
                html.Label(t("explore.grant_pct"), style=FIELD),
                dcc.Input(id="grant-pct", type="number", value=0, step=1, min=-90, max=300, debounce=0.8, style=INPUT),
                html.Label(t("explore.pots_pct"), style=FIELD),
                dcc.Input(id="pots-pct", type="number", value=0, step=1, min=-100, max=300, debounce=0.8, style=INPUT),
            ]),
            html.Div(style={"flex": "1 1 auto", "minWidth": "0"}, children=[
                html.Div(id="error", style={"color": "#a61b1b"}),
                html.Div(id="headline"),
                dcc.Graph(id="analytic", config={"displayModeBar": False}, style={"height": "480px"}),
                html.Div([html.Button(t("explore.compute_bands", n=replications), id="get-bands",
                                      style={"marginRight": "1em", "fontWeight": "bold"}),
                          html.Button(t("explore.download_report"), id="get-report", style={"marginRight": "1em"}),
                          html.Button(t("explore.download_workbook"), id="get-workbook"),
                          dcc.Download(id="download")], style={"margin": "1em 0"}),  # fmt: skip
                dcc.Loading(html.Div(id="bands"), type="default"),
            ]),
        ]),
    ])  # fmt: skip
    controls = [
        Input("scenario", "value"), Input("years", "value"),
        Input({"type": "fte", "key": ALL}, "value"), Input({"type": "norm", "key": ALL}, "value"),
        Input({"type": "places", "key": ALL}, "value"), Input("inflow-pct", "value"), Input("inflow-year", "value"),
        Input("grant-pct", "value"), Input("pots-pct", "value"),
    ]  # fmt: skip
    ids = [State({"type": k, "key": ALL}, "id") for k in LEVER_INPUTS]

    @app.callback(Output("years", "value"), Input("scenario", "value"), prevent_initial_call=True)
    def scenario_years(name):
        return model.load_scenario_cached(name).years

    @app.callback(Output("levers", "children"), Output("inflow-year", "options"), Output("inflow-year", "value"),
                  Input("scenario", "value"), Input("years", "value"))  # fmt: skip
    def levers(name, years):
        return lever_controls(name, _years(years, name), t)

    @app.callback(Output("headline", "children"), Output("analytic", "figure"), Output("error", "children"),
                  *controls, *ids)  # fmt: skip
    def analytic(*args):
        try:
            state = page_state(*args)
            base = model.base_lines(state.scenario, state.years)
            mine = model.analytic_lines(model.variant(state, t("explore.label")))
        except (ScenarioError, ValueError) as exc:
            problems = exc.problems if isinstance(exc, ScenarioError) else [str(exc)]
            return no_update, no_update, [html.P(t("explore.error")), html.Ul([html.Li(p) for p in problems])]
        return headline(base, mine, t), analytic_figure(base, mine, t), ""

    # replications run on request, not on every change: Dash sends a page's callbacks one after the
    # other, so automatic replications would hold up the instant analytic update behind them
    states = [State(c.component_id, c.component_property) for c in controls]

    @app.callback(Output("bands", "children"), Input("get-bands", "n_clicks"), *states, *ids,
                  prevent_initial_call=True)  # fmt: skip
    def bands(clicks, *args):
        try:
            state = page_state(*args)
            arms = model.pair(state, t("explore.label"), replications, workers)
        except (ScenarioError, ValueError):
            return ""  # the analytic callback shows the problem
        return band_charts(arms, t)

    @app.callback(Output("download", "data"), Input("get-report", "n_clicks"), Input("get-workbook", "n_clicks"),
                  *states, *ids, prevent_initial_call=True)  # fmt: skip
    def download(report_clicks, workbook_clicks, *args):
        from dash import ctx

        arms = model.pair(page_state(*args), t("explore.label"), replications, workers)
        name = "report.html" if ctx.triggered_id == "get-report" else "comparison.xlsx"
        return dcc.send_bytes(model.files(arms, t.lang)[name], name)

    return app


def _valid(name: str) -> bool:
    try:
        model.load_scenario_cached(name)
        return True
    except ScenarioError:
        return False


def _years(years, name: str) -> int:
    try:
        value = int(years)
    except (TypeError, ValueError):
        return model.load_scenario_cached(name).years
    return min(30, max(1, value))


def page_state(name, years, fte, norm, places, inflow_pct, inflow_year, grant, pots, fte_ids, norm_ids,
               places_ids) -> model.State:  # fmt: skip
    """The controls' values as a :class:`model.State` (controls not on the page keep the scenario's values)."""
    state = model.defaults(name, _years(years, name))

    def merged(current: dict, values, found_ids) -> dict:
        given = {i["key"]: float(v) for i, v in zip(found_ids, values) if v is not None and i["key"] in current}
        return current | given

    return model.State(
        scenario=name, years=state.years, fte=merged(state.fte, fte, fte_ids), norm=merged(state.norm, norm, norm_ids),
        places=merged(state.places, places, places_ids), inflow_pct=float(inflow_pct or 0),
        inflow_year=int(inflow_year) if inflow_year else state.inflow_year, grant_pct=float(grant or 0),
        pots_pct=float(pots or 0),
    )  # fmt: skip


def lever_controls(name: str, years: int, t):
    """Inputs for each werkmatcher team's FTE and norm and each instrument's places, with the scenario's values."""
    scenario = model.load_scenario_cached(name)
    state = model.defaults(name, years)
    children = []
    for team, spec in scenario.werkmatchers.items():
        children += [
            html.H4(spec.label or t("explore.team", team=team)),
            html.Label(t("explore.fte"), style=FIELD),
            dcc.Input(id={"type": "fte", "key": team}, type="number", value=state.fte[team], min=0, step="any",
                      debounce=0.8, style=INPUT),
            html.Label(t("explore.norm"), style=FIELD),
            dcc.Input(id={"type": "norm", "key": team}, type="number", value=state.norm[team], min=1, step=1,
                      debounce=0.8, style=INPUT),
        ]  # fmt: skip
    for sname, value in state.places.items():
        children += [
            html.H4(t("explore.places", state=scenario.states[sname].label)),
            dcc.Input(id={"type": "places", "key": sname}, type="number", value=value, min=0, step=1,
                      debounce=0.8, style=INPUT),
        ]  # fmt: skip
    first = scenario.start.year
    options = [{"label": str(y), "value": y} for y in range(first, first + years)]
    return children, options, state.inflow_year


def headline(base: dict, mine: dict, t):
    """The two figures that move at once: caseload at the end and exits to work in the last year."""
    year = mine["year"]

    def figure(title: str, value: float, base_value: float, fid: str):
        return html.Div(style={"flex": "1", "background": "#eef3f8", "padding": "0.6em 1em"}, children=[
            html.Div(title, style={"fontSize": "0.9em", "color": "#333"}),
            html.Div(t.number(value), id=fid, style={"fontSize": "2em", "fontWeight": "bold", "color": "#1f4e79"}),
            html.Div(t("explore.base_value", value=t.number(base_value)), style={"fontSize": "0.85em"}),
        ])  # fmt: skip

    return html.Div([
        html.H3(t("explore.headline", year=year)),
        html.Div(style={"display": "flex", "gap": "1em"}, children=[
            figure(t("explore.caseload", year=year), mine["caseload_end"], base["caseload_end"], "caseload-figure"),
            figure(t("explore.exits", year=year), mine["exits_work_year"], base["exits_work_year"],
                   "exits-work-figure"),
        ]),
    ])  # fmt: skip


def analytic_figure(base: dict, mine: dict, t) -> go.Figure:
    """Expected caseload and exits to work per month, base dashed, variant solid, axes from zero."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=(t("chart.caseload_title"), t("chart.exits_title")))  # fmt: skip
    for row, key in ((1, "caseload"), (2, "exits_work")):
        fig.add_trace(go.Scatter(x=base["months"], y=base[key], name=t("report.base"), showlegend=row == 1,
                                 line={"color": "#1f4e79", "dash": "dash"}), row=row, col=1)  # fmt: skip
        fig.add_trace(go.Scatter(x=mine["months"], y=mine[key], name=t("explore.label"), showlegend=row == 1,
                                 line={"color": "#c55a11"}), row=row, col=1)  # fmt: skip
        fig.update_yaxes(rangemode="tozero", row=row, col=1)
    fig.update_layout(title=t("explore.analytic"), margin={"t": 70, "l": 50, "r": 10, "b": 30},
                      legend={"orientation": "h", "y": -0.08}, template="plotly_white")  # fmt: skip
    return fig


def band_charts(arms, t):
    """The compare report's own charts for the base and the variant, and the I-deel result."""
    import tempfile

    from sim.report import charts as ch
    from sim.report.comparison import region_total

    arms = [region_total(a) for a in arms]  # a region's charts and figures are its total
    n = arms[0].caseload.shape[0]
    year = int(arms[1].annual["year"].max())
    children = [html.H3(t("explore.bands", n=n))]
    annual = arms[1].annual
    if "i_deel_result" in annual:
        median = float(annual.loc[annual["year"] == year, "i_deel_result"].median())
        children.append(html.P([t("explore.ideel", year=year, n=n), ": ",
                                html.B(t.euro(median), id="i-deel-figure")]))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        charts = [ch.caseload_chart(arms, Path(tmp) / "caseload.png", t),
                  ch.exits_chart(arms, Path(tmp) / "exits.png", t),
                  ch.ideel_chart(arms, Path(tmp) / "ideel.png", t)]  # fmt: skip
        for chart in (c for c in charts if c is not None):
            data = base64.b64encode(chart.path.read_bytes()).decode("ascii")
            children.append(html.Figure([html.Img(src=f"data:image/png;base64,{data}", style={"maxWidth": "100%"}),
                                         html.Figcaption(chart.caption, style={"fontSize": "0.85em"})]))  # fmt: skip
    return children
