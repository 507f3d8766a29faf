"""The HTML report of a change run: the overall caption, before/after pictures of the
largest regions and a table of every region. One self-contained file (inline images)."""
from __future__ import annotations

import html
import os

from .thumbnails import STYLE, data_uri


def write_change_report(path: str, result, pictures: list, before_path: str, after_path: str) -> None:
    """Write the report of a ChangeResult to `path`; `pictures` are (region, before JPEG,
    after JPEG) of the regions to show."""
    e = html.escape
    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>GeoVL change detection</title>'
             f"<style>{STYLE}</style></head><body><h1>Change detection</h1>"
             f"<p>Before: {e(os.path.basename(before_path))}; after: {e(os.path.basename(after_path))}.</p>"
             f"<h2>Overall</h2><pre>{e(result.caption)}</pre>"
             + "".join(f"<p>{e(note)}</p>" for note in result.notes)]
    if pictures:
        parts.append(f"<h2>Largest regions ({len(pictures)})</h2>")
    for region, before, after in pictures:
        said = [region.facts] + ([f"Model: {region.caption}"] if region.caption else [])
        parts.append(f'<div class="tile"><figure><img src="{data_uri(before)}" alt="before"><figcaption>Before'
                     f'</figcaption></figure><figure><img src="{data_uri(after)}" alt="after"><figcaption>After'
                     f"</figcaption></figure><div><h3>Region {region.id}</h3>"
                     + "".join(f"<p>{e(text)}</p>" for text in said) + "</div></div>")
    if result.regions:
        parts.append("<h2>All regions</h2><table><tr><th>Id</th><th>Area (m²)</th><th>Magnitude</th>"
                     "<th>Where</th><th>Facts</th><th>Caption</th><th>Before</th><th>After</th></tr>")
        for r in result.regions:
            cells = [str(r.id), f"{r.area_m2:,.1f}", f"{r.magnitude:.3g}", r.location, r.facts, r.caption,
                     r.before_label, r.after_label]
            parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(parts))
