"""One self-contained HTML page that steps through the forward and the backward pass.

Inline SVG (from ``svg``), CSS and JS; no network. Next / previous buttons and the arrow
keys move one node at a time; ``page.html#step=5`` opens a given step. The panel shows
what the seed notebooks' pictures show: the highlighted node, its values, its local
gradients, and upstream × local = contribution. Boxes of a collapsed module or repeated
run list their members when clicked. The panel carries ``data-step``/``data-vertex``
attributes so tests can check it from a DOM dump, and ``#step=2&keys=RRL`` replays key
presses (R/L: arrow keys, N/P: the buttons) so a headless browser drives the handlers.
"""
import itertools
import json
from xml.sax.saxutils import escape

from . import fmt
from .core import LEAF, OP
from .svg import drawing, no_gc, render_svg
from .text import d, forward_line, local_line, step_line

_ids = itertools.count()

CSS = """
.cr-page{font:14px system-ui,sans-serif;color:#202124;display:flex;gap:16px;align-items:flex-start}
.cr-graphwrap{flex:1 1 auto;overflow:auto;max-height:88vh;border:1px solid #dadce0;border-radius:6px}
.cr-fit svg{max-width:100%;height:auto}
.cr-side{flex:0 0 380px;position:sticky;top:8px}
.cr-side h2{font-size:16px;margin:4px 0 8px}
.cr-side .cr-phase{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:#5f6368}
.cr-side ul{padding-left:18px;margin:6px 0}
.cr-side li{font:12.5px ui-monospace,Menlo,Consolas,monospace;margin:3px 0;word-break:break-word}
.cr-nav button{font-size:14px;padding:4px 12px;margin-right:6px}
.cr-members{max-height:30vh;overflow:auto;font:12px ui-monospace,monospace}
.cr-hidegrad .cr-grad{visibility:hidden}
"""

JS = r"""
(function(){
  var root = document.getElementById(ROOT_ID);
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var steps = data.steps, box = data.box_of, cur = 0;
  var panel = root.querySelector('.cr-panel');
  function el(tag, text){ var e = document.createElement(tag); e.textContent = text; return e; }
  function show(i){
    cur = Math.max(0, Math.min(steps.length - 1, i));
    var s = steps[cur];
    root.querySelectorAll('.cr-hl').forEach(function(e){ e.classList.remove('cr-hl'); });
    root.querySelectorAll('.cr-hl-edge').forEach(function(e){ e.classList.remove('cr-hl-edge'); });
    var b = root.querySelector('#' + PREFIX + 'b' + box[s.vertex]);
    if (b) { b.classList.add('cr-hl'); if (b.scrollIntoView && !data.embedded) b.scrollIntoView({block:'nearest', inline:'nearest'}); }
    s.edges.forEach(function(p){
      root.querySelectorAll('[data-src="' + p[0] + '"][data-dst="' + p[1] + '"]').forEach(function(e){ e.classList.add('cr-hl-edge'); });
    });
    // a box shows its gradient once the backward pass has reached it
    root.querySelectorAll('.cr-box').forEach(function(g){
      var k = g.getAttribute('data-gradstep');
      if (k !== null) g.classList.toggle('cr-hidegrad', +k > cur);
    });
    panel.innerHTML = '';
    panel.appendChild(el('div', s.phase + ' pass · step ' + (cur + 1) + ' / ' + steps.length)).className = 'cr-phase';
    panel.appendChild(el('h2', s.title));
    var ul = document.createElement('ul');
    s.lines.forEach(function(t){ ul.appendChild(el('li', t)); });
    panel.appendChild(ul);
    panel.setAttribute('data-step', cur);
    panel.setAttribute('data-vertex', s.vertex);
    panel.setAttribute('data-phase', s.phase);
    if (!data.embedded && location.hash !== '#step=' + cur) history.replaceState(null, '', '#step=' + cur);
  }
  function fromHash(){ var m = /step=(\d+)/.exec(location.hash); return m ? +m[1] : 0; }
  root.querySelector('.cr-prev').onclick = function(){ show(cur - 1); };
  root.querySelector('.cr-next').onclick = function(){ show(cur + 1); };
  root.querySelector('.cr-first').onclick = function(){ show(0); };
  (data.embedded ? root : document).addEventListener('keydown', function(ev){
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') { show(cur + 1); ev.preventDefault(); }
    if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') { show(cur - 1); ev.preventDefault(); }
  });
  if (!data.embedded) window.addEventListener('hashchange', function(){ show(fromHash()); });
  var members = root.querySelector('.cr-members');
  root.querySelectorAll('.cr-group, .cr-run').forEach(function(g){
    g.style.cursor = 'pointer';
    g.addEventListener('click', function(){
      var ids = g.getAttribute('data-members').split(' ');
      members.innerHTML = '';
      members.appendChild(el('b', g.querySelector('text').textContent));
      var ul = document.createElement('ul');
      ids.forEach(function(i){ ul.appendChild(el('li', data.vertex_lines[i])); });
      members.appendChild(ul);
    });
  });
  // '#step=2&keys=RRL': after opening step 2, press →, →, ← (N/P click next/previous);
  // lets a headless browser drive the real handlers without a debugging protocol.
  var keys = data.embedded ? null : /keys=([RLNP]+)/.exec(location.hash);
  show(data.embedded ? 0 : fromHash());
  if (keys) keys[1].split('').forEach(function(k){
    if (k === 'N') root.querySelector('.cr-next').click();
    else if (k === 'P') root.querySelector('.cr-prev').click();
    else document.dispatchEvent(new KeyboardEvent('keydown', {key: k === 'R' ? 'ArrowRight' : 'ArrowLeft', bubbles: true}));
  });
})();
"""


def _steps(ex):
    """The page's steps: one per op forward, then seed, one per node backward, leaves."""
    L = ex.loss_name
    steps = []
    for v in ex.nodes:
        lines = [f"{e.src.label} = {fmt.value(e.src.value)}" for e in v.inputs]
        lines.append(forward_line(v))
        lines += ["local: " + local_line(e) for e in v.inputs]
        steps.append({
            "phase": "forward", "vertex": v.idx, "title": f"{v.label} = {v.short}(…)",
            "lines": lines, "edges": [[e.src.idx, v.idx] for e in v.inputs],
        })
    grad_step = {}
    cur = None
    for s in ex.steps:
        if s.kind == "forward":
            continue
        v = s.vertex
        line = step_line(ex, s)
        if s.kind == "seed":
            cur = {"phase": "backward", "vertex": v.idx, "title": f"start at {L}",
                   "lines": [line], "edges": [], "closed": True}
            steps.append(cur)
            grad_step[v.idx] = len(steps) - 1
        elif s.kind in ("backward", "broadcast"):
            node = s.edge.dst
            if cur is None or cur["vertex"] != node.idx or cur.get("closed"):
                cur = {"phase": "backward", "vertex": node.idx,
                       "title": f"backward through {node.label} = {node.short}(…)",
                       "lines": [f"upstream {d(L, node.label)} = {fmt.value(node.grad)}"],
                       "edges": []}
                steps.append(cur)
                grad_step.setdefault(node.idx, len(steps) - 1)
            cur["lines"].append(line)
            if s.kind == "backward":
                cur["edges"].append([s.edge.src.idx, node.idx])
        elif s.kind == "accumulate" and v.kind == OP:
            # the sum happens just before the node's own rule runs: open its step now
            cur = {"phase": "backward", "vertex": v.idx,
                   "title": f"backward through {v.label} = {v.short}(…)", "lines": [line],
                   "edges": [[e.dst.idx, v.idx] for e in s.parts]}
            steps.append(cur)
            grad_step[v.idx] = len(steps) - 1
        else:  # a leaf's sum and its final .grad
            if cur is None or cur["vertex"] != v.idx:
                cur = {"phase": "backward", "vertex": v.idx, "title": f"{v.label}.grad",
                       "lines": [], "edges": [[e.dst.idx, v.idx] for e in v.consumers if e.needs_grad],
                       "closed": True}
                steps.append(cur)
            cur["lines"].append(line)
            grad_step[v.idx] = len(steps) - 1
    for s in steps:
        s.pop("closed", None)
    return steps, grad_step


def render_html(ex, embedded=False, collapse=None, max_boxes=150):
    uid = next(_ids)
    prefix = f"cr{uid}-"
    with no_gc():
        drawn = drawing(ex, collapse, max_boxes)
    boxes = drawn[0]
    steps, grad_step = _steps(ex)
    box_of = {}
    for b in boxes:
        for m in b.members:
            box_of[m.idx] = b.id
    svg = render_svg(ex, drawn=drawn)
    # unique element ids (several explanations on one notebook page) and gradient reveal
    svg = svg.replace(' id="cr-b', f' id="{prefix}b').replace(' id="cr-e', f' id="{prefix}e')
    for b in boxes:
        if b.vertex is not None and b.vertex.idx in grad_step:
            svg = svg.replace(
                f' id="{prefix}b{b.id}" ',
                f' id="{prefix}b{b.id}" data-gradstep="{grad_step[b.vertex.idx]}" ', 1,
            )
    data = {
        "steps": steps,
        "box_of": box_of,
        "embedded": embedded,
        "vertex_lines": [_vertex_line(v) for v in ex.vertices],
    }
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    root_id = f"cr-root-{uid}"
    js = JS.replace("ROOT_ID", json.dumps(root_id)).replace("PREFIX", json.dumps(prefix))
    body = (
        f'<div class="cr-page" id="{root_id}" tabindex="0">'
        # A small graph is scaled to fit its panel (nothing hides behind a scrollbar); a big
        # one keeps its size and scrolls, since shrunk it could not be read.
        f'<div class="cr-graphwrap{" cr-fit" if len(boxes) <= 40 else ""}">{svg}</div>'
        '<div class="cr-side">'
        '<div class="cr-nav"><button class="cr-first">first</button>'
        '<button class="cr-prev">◀ previous</button><button class="cr-next">next ▶</button></div>'
        '<div class="cr-panel"></div><div class="cr-members"></div>'
        f'<script type="application/json">{payload}</script>'
        "</div></div>"
        f"<style>{CSS}</style><script>{js}</script>"
    )
    if embedded:
        return body
    title = escape(f"chainrule explain: {ex.loss_name}")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{title}</title></head><body>"
        f"<p style=\"font:13px system-ui\">{len(ex.nodes)} ops · {len(ex.leaves)} leaves · "
        "← / → step through the forward pass, then the backward pass</p>"
        f"{body}</body></html>\n"
    )


def _vertex_line(v):
    if v.kind == OP:
        return forward_line(v)
    kind = "leaf" if v.kind == LEAF else "constant"
    return f"{v.label} = {fmt.value(v.value)} ({kind})"
