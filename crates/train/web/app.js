// Activation Lab, live: the page. It sends the form as config keys (the same
// keys as a config file), listens to the lab's Server-Sent Events and draws
// what they carry. No library, no network beyond this server.
'use strict';

const RUNS = ['A', 'B'];
// Runs in the figures' run palette, classes in their class colours
// (palette.js, made from the library's palette): the two never share a colour.
const COLORS = { A: PALETTE.runs[0], B: PALETTE.runs[2] };
document.documentElement.style.setProperty('--a', COLORS.A);
document.documentElement.style.setProperty('--b', COLORS.B);
const $ = (selector, root = document) => root.querySelector(selector);
/// The clicked unit's switching line: a colour no class, run or boundary has.
const SWITCH_COLOUR = '#e7298a';

const page = {
  options: null,   // GET /api/options
  lab: null,       // the lab's info (id, points, runs)
  events: null,    // EventSource
  runs: {},        // name -> { view, records, picture }
  applied: '',     // the settings the lab was made with (JSON)
  drawing: false,
  own: null,       // the page's own data: { name, csv, header, features, loss }
};

// ---- talking to the server ---------------------------------------------

// Off loopback the server prints its URL with ?token=...: the page keeps the
// token for this tab only and takes it out of the address bar, so a copied
// link never carries it.
const TOKEN = (() => {
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (given) {
    sessionStorage.setItem('lab-token', given);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }
  return sessionStorage.getItem('lab-token');
})();

function authHeaders(headers = {}) {
  return TOKEN ? { ...headers, 'x-lab-token': TOKEN } : headers;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: authHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function showError(error) {
  const box = $('#error');
  if (error) {
    box.textContent = String(error.message || error);
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

async function control(action, extra = {}) {
  if (!page.lab) return;
  try {
    await api('POST', `/api/labs/${page.lab.id}/control`, { action, ...extra });
    showError(null);
  } catch (error) {
    showError(error);
  }
}

// ---- the form ------------------------------------------------------------

function fillSelect(select, names, chosen) {
  select.innerHTML = '';
  for (const name of names) {
    const option = document.createElement('option');
    option.value = option.textContent = name;
    select.appendChild(option);
  }
  if (chosen !== undefined) select.value = chosen;
}

function isPlane(kind) {
  return ['circle', 'xor', 'gauss', 'spiral', 'moons'].includes(kind);
}

/// The data kind of the page's own data (an upload, clicked points).
const OWN = 'csv';

function hiddenInput(width) {
  const input = document.createElement('input');
  input.type = 'text';
  input.inputMode = 'numeric';
  input.dataset.name = 'Hidden layer width';
  input.value = width;
  input.addEventListener('input', markChanged);
  $('#hidden').appendChild(input);
}

/// A data set's example settings (config/*.toml), by data kind.
function presetFor(kind) {
  return (page.options.presets || []).find((preset) => preset.config.data.kind === kind);
}

/// Fills the form with `config`'s settings (both runs' rates from its own).
function fillSettings(config) {
  $('#data-noise').value = config.data.noise_std ?? '';
  $('#data-samples').value = config.data.samples;
  $('#data-validation').value = config.data.validation_fraction;
  $('#data-standardize').checked = Boolean(config.data.standardize);
  if (config.data.function) $('#data-function').value = config.data.function;
  const chosen = config.data.inputs || ['x1', 'x2'];
  for (const box of $('#data-inputs').querySelectorAll('input')) box.checked = chosen.includes(box.value);
  $('#hidden').innerHTML = '';
  for (const width of config.model.hidden) hiddenInput(width);
  $('#loss').value = config.training.loss;
  $('#batch').value = config.training.batch_size;
  $('#epochs').value = config.training.epochs;
  $('#seed').value = config.seed;
  $('#l1').value = config.training.l1 ?? '';
  $('#l2').value = config.training.l2 ?? '';
  for (const name of RUNS) $(`#lr-${name}`).value = config.training.lr;
}

/// What the chosen set's example settings show, under the set's name.
function showPresetNote() {
  const kind = $('#data-kind').value;
  const preset = presetFor(kind);
  $('#preset-note').textContent = preset ? `${preset.point} (${preset.file})`
    : kind === OWN ? 'Your own points: a CSV file, or clicks on the picture. The run directory keeps them as data.csv.' : '';
}

function fillForm(options) {
  const config = options.defaults.config;
  const runs = options.defaults.runs;
  fillSelect($('#data-kind'), options.data_kinds, config.data.kind);
  const own = document.createElement('option');
  own.value = OWN;
  own.textContent = 'your data (CSV, clicks)';
  $('#data-kind').appendChild(own);
  fillSelect($('#data-function'), options.functions, config.data.function || 'sin');
  $('#data-noise').value = config.data.noise_std ?? '';
  $('#data-samples').value = config.data.samples;
  $('#data-validation').value = config.data.validation_fraction;
  const inputs = $('#data-inputs');
  for (const name of options.inputs) {
    const label = document.createElement('label');
    label.innerHTML = `<input type="checkbox" value="${name}"> ${name}`;
    inputs.appendChild(label);
  }
  fillSelect($('#loss'), options.losses, config.training.loss);
  fillSelect($('#backend'), options.backends, options.default_backend);
  // An activation is typed (a per-layer combination such as relu/tanh)
  // or picked from the names.
  fillSelect($('#activation-names'), options.activations);
  RUNS.forEach((name, index) => {
    $(`#activation-${name}`).value = runs[index]['model.activation'];
  });
  fillSettings(config);
  $('#speed').value = String(options.defaults.speed);
  showKindRows();
  showPresetNote();
}

function showKindRows() {
  const kind = $('#data-kind').value;
  $('#function-row').hidden = kind !== 'function';
  $('#inputs-row').hidden = !isPlane(kind);
  $('#own-row').hidden = kind !== OWN;
  $('#noise-row').hidden = kind === OWN;
  $('#samples-row').hidden = kind === OWN;
  // Points are added where there is a picture: a 2-D set, a 1-D fit, your own data.
  const oneD = kind === 'function' || (kind === OWN && page.own && page.own.features === 1);
  $('#click-row').hidden = !(isPlane(kind) || kind === 'function' || kind === OWN);
  $('#click-classes').hidden = oneD;
  showOwnNote();
}

/// What the page's own data is, under the upload field.
function showOwnNote() {
  const own = page.own;
  const points = page.lab && page.lab.points && page.lab.points.own ? page.lab.points : null;
  let text = 'No data yet: choose a CSV file (1 or 2 feature columns, then the target; at most 1 MB and 10,000 rows), or click the picture.';
  if (own) {
    const rows = points ? `${points.rows.length} rows, ` : '';
    const held = points ? `; rows ${points.validation_from + 1}–${points.rows.length} are the validation share` : '';
    text = `${own.name}: ${rows}${own.features} feature ${own.features === 1 ? 'column' : 'columns'} and a target${held}.`;
  }
  $('#own-note').textContent = text;
}

/// What the form could not read, quoted as typed: filled by `number`.
let unreadable = [];

/// A number field's value; a text that is no number is noted, quoted.
function number(selector, element = $(selector)) {
  const typed = element.value.trim();
  const value = Number(typed);
  if (typed === '' || !Number.isFinite(value)) {
    unreadable.push(`${element.dataset.name || selector}: "${typed}" is not a number`);
  }
  return value;
}

/// A field that may be left blank (off): null, else its number.
function optionalNumber(selector) {
  return $(selector).value.trim() === '' ? null : number(selector);
}

/// The form as a lab request: config keys shared by the pair, each run's own.
function request() {
  unreadable = [];
  const kind = $('#data-kind').value;
  const own = kind === OWN;
  const noise = $('#data-noise').value.trim();
  const shared = {
    seed: number('#seed'),
    'data.kind': kind,
    'data.samples': own ? null : number('#data-samples'),
    'data.validation_fraction': number('#data-validation'),
    'data.standardize': $('#data-standardize').checked,
    'data.noise_std': noise === '' || own ? null : number('#data-noise'),
    'data.function': kind === 'function' ? $('#data-function').value : null,
    'data.inputs': null,
    'data.features': null,
    'model.hidden': [...$('#hidden').querySelectorAll('input')].map((input) => number(null, input)),
    'training.loss': $('#loss').value,
    'training.batch_size': number('#batch'),
    'training.l1': optionalNumber('#l1'),
    'training.l2': optionalNumber('#l2'),
    'training.epochs': number('#epochs'),
  };
  if (isPlane(kind)) {
    const inputs = [...$('#data-inputs').querySelectorAll('input:checked')].map((box) => box.value);
    shared['data.inputs'] = inputs;
    shared['model.input'] = inputs.length;
  } else if (kind === 'function') {
    shared['model.input'] = 1;
  } else if (own) {
    shared['model.input'] = page.own ? page.own.features : 2;
    shared['data.header'] = $('#data-header').checked;
  } else {
    shared['model.input'] = 10;
  }
  const runs = RUNS.map((name) => ({
    'model.activation': $(`#activation-${name}`).value,
    'training.lr': number(`#lr-${name}`),
  }));
  const wanted = { shared, runs, backend: $('#backend').value, speed: Number($('#speed').value) };
  if (own && page.own) wanted.data = { name: page.own.name, csv: page.own.csv };
  return wanted;
}

/// The settings that a Reset applies (not the speed, which applies at once);
/// the page's own data by its digest.
function settingsKey(wanted = request()) {
  const { speed, data, ...settings } = wanted;
  if (data) settings.data = page.own.digest;
  return JSON.stringify(settings);
}

// ---- your own data ---------------------------------------------------------

/// A short digest of a text (FNV-1a, 32 bits): enough to tell two data sets apart.
function digest(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `${text.length}:${(hash >>> 0).toString(16)}`;
}

/// Makes `csv` the page's own data: kept for this tab (a reload keeps it),
/// the set switched to "your data". The loss is guessed from the targets
/// (all 0/1: classes); the server reads the file and says what is wrong.
function setOwnData(name, csv, header) {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  const rows = (header ? lines.slice(1) : lines).map((line) => line.split(','));
  const features = Math.max(1, (rows.length ? rows[0].length : 2) - 1);
  const classes = rows.length > 0 && rows.every((cells) => ['0', '1'].includes(cells[cells.length - 1].trim()));
  page.own = { name, csv, header, features, loss: classes ? 'bce' : 'mse', digest: digest(csv) };
  try {
    sessionStorage.setItem('lab-own', JSON.stringify(page.own));
  } catch (_) { /* too large for this tab's storage: a reload forgets it */ }
  $('#data-kind').value = OWN;
  $('#data-header').checked = header;
  $('#loss').value = page.own.loss;
  showKindRows();
  showPresetNote();
}

/// Whether a CSV text's first row is a header: a cell in it is no number.
function hasHeader(csv) {
  const first = csv.split(/\r?\n/, 1)[0] || '';
  return first.split(',').some((cell) => cell.trim() === '' || !Number.isFinite(Number(cell.trim())));
}

/// An uploaded file: checked for size here, read by the server.
async function uploadFile(file) {
  const most = page.options.limits.max_data_bytes;
  if (file.size > most) {
    showError(new Error(`${file.name}: ${file.size.toLocaleString('en')} bytes; the lab takes at most ${most.toLocaleString('en')} (1 MB): train larger files with \`train --config\``));
    return;
  }
  const csv = await file.text();
  // The file replaces any clicked points not yet trained on.
  clearTimeout(clickTimer);
  setOwnData(file.name, csv, hasHeader(csv));
  await newLab();
}

/// The lab's points as CSV text (the columns the picture draws), so that
/// clicks can add to any set with a picture.
function pointsCsv(points) {
  const plane = Boolean(points.bounds);
  const names = points.inputs && points.own ? points.inputs : (plane ? ['x1', 'x2'] : ['x']);
  const header = [...names, plane ? 'label' : 'y'].join(',');
  const rows = points.rows.map((row) => row.map((v) => Number(v.toPrecision(7))).join(','));
  return [header, ...rows].join('\n') + '\n';
}

/// A clicked point, put first (the validation share is the last rows, so
/// a clicked point is trained on); then a new lab on the new data, which
/// trains on at once if the pair was training or done.
let clickTimer = null;
function addPoint(values) {
  const points = page.lab && page.lab.points;
  if (!points) return;
  const base = page.own && points.own ? page.own
    : { name: `${$('#data-kind').value === OWN ? 'your' : $('#data-kind').value} points`, csv: pointsCsv(points), header: true };
  const line = values.map((v) => Number(v.toPrecision(5))).join(',');
  const lines = base.csv.replace(/\s+$/, '').split(/\r?\n/);
  const at = base.header ? 1 : 0;
  lines.splice(at, 0, line);
  const name = base.name.endsWith('+ clicks') || base.name.endsWith('points') ? base.name : `${base.name} + clicks`;
  setOwnData(name, lines.join('\n') + '\n', base.header);
  // Drawn at once; trained on in a moment (clicks in a row make one new lab).
  points.rows.unshift(values);
  points.validation_from += 1;
  scheduleDraw();
  const states = RUNS.filter((n) => page.runs[n]).map((n) => page.runs[n].view.state);
  const going = states.some((state) => state === 'running' || state === 'finished');
  clearTimeout(clickTimer);
  clickTimer = setTimeout(async () => {
    if (await newLab() && going) control('start');
  }, 400);
}

/// Where a click on run `name`'s picture lands in the data's coordinates;
/// shift picks the other class.
function pictureClick(name, event) {
  const points = page.lab && page.lab.points;
  const run = page.runs[name];
  if (!points || !run) return;
  const canvas = event.currentTarget;
  const box = canvas.getBoundingClientRect();
  // Inside the border: the drawing's own pixels.
  const x = ((event.clientX - box.left - canvas.clientLeft) * canvas.width) / canvas.clientWidth;
  const y = ((event.clientY - box.top - canvas.clientTop) * canvas.height) / canvas.clientHeight;
  if (points.bounds) {
    const [[x1lo, x1hi], [x2lo, x2hi]] = points.bounds;
    const x1 = x1lo + (x / canvas.width) * (x1hi - x1lo);
    const x2 = x2hi - (y / canvas.height) * (x2hi - x2lo);
    const chosen = Number(document.querySelector('input[name="click-class"]:checked').value);
    const label = event.shiftKey ? 1 - chosen : chosen;
    addPoint([x1, x2, label]);
  } else if (run.curveMapping) {
    addPoint(run.curveMapping.invert(x, y));
  }
}

function markChanged() {
  const changed = page.lab !== null && settingsKey() !== page.applied;
  const hint = $('#settings-hint');
  hint.classList.toggle('changed', changed);
  hint.textContent = changed
    ? 'Settings changed: press Reset to train with them.'
    : 'Changed settings take effect on Reset; "Set now" changes a paused run\'s rate mid-run.';
}

// ---- the lab -------------------------------------------------------------

// ---- a shareable setup -----------------------------------------------------

/// The setup in the address's fragment (`#setup=...`): a copied link
/// reproduces both runs' settings. The lab's id and any token stay out of
/// it, in this tab's sessionStorage.
function setupInAddress() {
  const found = /(?:^#|&)setup=([^&]*)/.exec(location.hash);
  if (!found) return null;
  try {
    const setup = JSON.parse(decodeURIComponent(found[1]));
    if (!setup || typeof setup.shared !== 'object' || !Array.isArray(setup.runs)) throw new Error('no setup');
    return setup;
  } catch (_) {
    showError(new Error('the link\'s #setup could not be read; the page starts from its defaults'));
    return null;
  }
}

function writeSetup(wanted) {
  const { shared, runs, backend, speed } = wanted;
  const fragment = `#setup=${encodeURIComponent(JSON.stringify({ shared, runs, backend, speed }))}`;
  history.replaceState(null, '', location.pathname + location.search + fragment);
}

/// Fills the form from a setup (the keys `request` sends).
function fillFromSetup(setup) {
  const shared = setup.shared;
  const set = (selector, value) => { if (value !== undefined && value !== null) $(selector).value = value; };
  if (shared['data.kind']) $('#data-kind').value = shared['data.kind'];
  set('#data-function', shared['data.function']);
  $('#data-noise').value = shared['data.noise_std'] ?? '';
  set('#data-samples', shared['data.samples']);
  set('#data-validation', shared['data.validation_fraction']);
  if ('data.standardize' in shared) $('#data-standardize').checked = Boolean(shared['data.standardize']);
  if ('data.header' in shared) $('#data-header').checked = Boolean(shared['data.header']);
  if (Array.isArray(shared['data.inputs'])) {
    for (const box of $('#data-inputs').querySelectorAll('input')) box.checked = shared['data.inputs'].includes(box.value);
  }
  if (Array.isArray(shared['model.hidden'])) {
    $('#hidden').innerHTML = '';
    for (const width of shared['model.hidden']) hiddenInput(width);
  }
  set('#loss', shared['training.loss']);
  set('#batch', shared['training.batch_size']);
  set('#epochs', shared['training.epochs']);
  set('#seed', shared.seed);
  $('#l1').value = shared['training.l1'] ?? '';
  $('#l2').value = shared['training.l2'] ?? '';
  RUNS.forEach((name, index) => {
    const own = setup.runs[index] || {};
    set(`#activation-${name}`, own['model.activation']);
    set(`#lr-${name}`, own['training.lr']);
  });
  set('#backend', setup.backend);
  if (setup.speed !== undefined) $('#speed').value = String(setup.speed);
  showKindRows();
  showPresetNote();
}

/// The lab this tab made before a reload, if it still lives (a lab with no
/// page waits `--idle-timeout` seconds, 30 by default) and has this setup.
async function reconnect() {
  const id = sessionStorage.getItem('lab-id');
  if (!id) return false;
  try {
    const snapshot = await (await api('GET', `/api/labs/${id}`)).json();
    if (sessionStorage.getItem('lab-setup') !== settingsKey()) return false;
    page.applied = settingsKey();
    applySnapshot(snapshot);
    listen(id);
    markChanged();
    return true;
  } catch (_) {
    return false;
  }
}

async function newLab() {
  const wanted = request();
  if (unreadable.length) {
    showError(new Error(unreadable[0]));
    return false;
  }
  if (wanted.shared['data.kind'] === OWN && !wanted.data) {
    showError(new Error('Your data: choose a CSV file first (or pick a set and click its picture to add points).'));
    return false;
  }
  let created;
  try {
    created = await (await api('POST', '/api/labs', wanted)).json();
  } catch (error) {
    showError(error);
    return false;
  }
  showError(null);
  closeLab();
  page.applied = settingsKey(wanted);
  writeSetup(wanted);
  sessionStorage.setItem('lab-id', created.lab.id);
  sessionStorage.setItem('lab-setup', page.applied);
  applySnapshot(created);
  listen(created.lab.id);
  markChanged();
  showOwnNote();
  return true;
}

function closeLab() {
  if (page.events) page.events.close();
  if (page.lab) {
    fetch(`/api/labs/${page.lab.id}`, { method: 'DELETE', keepalive: true, headers: authHeaders() }).catch(() => {});
  }
  page.events = null;
  page.lab = null;
}

function listen(id) {
  const query = TOKEN ? `?token=${encodeURIComponent(TOKEN)}` : '';
  const events = new EventSource(`/api/labs/${id}/events${query}`);
  events.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === 'snapshot') applySnapshot(data);
    else if (data.type === 'frame') applyFrame(data);
    scheduleDraw();
  };
  events.onopen = () => setStatus();
  events.onerror = () => { $('#status').textContent = 'connection lost; retrying…'; };
  page.events = events;
}

function applySnapshot(snapshot) {
  // The same lab again (the stream reconnected or fell behind): the panels
  // stay, only their data is replaced.
  const same = page.lab && page.lab.id === snapshot.lab.id && RUNS.every((name, index) => !snapshot.lab.runs[index] === !page.runs[name]);
  page.lab = snapshot.lab;
  const previous = page.runs;
  page.runs = {};
  snapshot.lab.runs.forEach((info, index) => {
    const view = snapshot.runs[index];
    const old = previous[info.name];
    page.runs[info.name] = {
      info, view, records: view.records.slice(), picture: view.picture,
      regions: view.regions, regionCounts: view.region_counts.slice(),
      diagram: view.diagram, focus: view.focus,
      // What this page asked to see: the picture kept over a new lab, the
      // clicked unit only over a new snapshot of the same lab.
      show: old ? old.show : (view.wish.regions ? 'regions' : 'surface'),
      unit: same && old ? old.unit : view.wish.unit,
    };
  });
  if (!same) buildPanels();
  scheduleDraw();
}

function applyFrame(frame) {
  const name = page.lab && page.lab.runs[frame.run] ? page.lab.runs[frame.run].name : null;
  const run = name && page.runs[name];
  if (!run) return;
  if (frame.generation !== run.view.generation) {
    run.records = [];
    run.regionCounts = [];
  }
  const last = run.records.length ? run.records[run.records.length - 1].epoch : 0;
  for (const record of frame.records) {
    if (record.epoch > last) run.records.push(record);
  }
  const lastCount = run.regionCounts.length ? run.regionCounts[run.regionCounts.length - 1][0] : -1;
  for (const count of frame.region_counts) {
    if (count[0] > lastCount) run.regionCounts.push(count);
  }
  if (frame.picture) run.picture = frame.picture;
  if (frame.regions) run.regions = frame.regions;
  if (frame.diagram) run.diagram = frame.diagram;
  // A frame without the inside keeps the last one, unless the unit was closed.
  if (frame.focus || !frame.wish.unit) run.focus = frame.focus;
  run.view = frame;
}

// ---- panels --------------------------------------------------------------

function buildPanels() {
  for (const name of RUNS) {
    const panel = $(`#run-${name}`);
    panel.innerHTML = '';
    const run = page.runs[name];
    panel.hidden = !run;
    if (!run) continue;
    panel.appendChild($('#run-template').content.cloneNode(true));
    $('.name', panel).textContent = name;
    $('.activation', panel).textContent = run.info.activation;
    $('.download', panel).addEventListener('click', () => download(name));
    for (const radio of panel.querySelectorAll('.picture-toggle input')) {
      radio.name = `show-${name}`;
      radio.checked = radio.value === run.show;
      // The run's current record (a snapshot replaces it), not this one.
      radio.addEventListener('change', () => {
        page.runs[name].show = radio.value;
        sendWish(name);
        scheduleDraw();
      });
    }
    const surface = $('.surface', panel);
    surface.classList.add('clickable');
    surface.title = 'Click to add a point (shift: the other class)';
    surface.addEventListener('click', (event) => pictureClick(name, event));
    $('.diagram', panel).addEventListener('click', (event) => {
      const canvas = event.currentTarget;
      const box = canvas.getBoundingClientRect();
      const x = ((event.clientX - box.left) * canvas.width) / box.width;
      const y = ((event.clientY - box.top) * canvas.height) / box.height;
      const now = page.runs[name];
      const hit = now.diagram && unitAt(diagramLayout(now.diagram, canvas.width), x, y);
      if (!hit) return;
      const same = now.unit && now.unit[0] === hit[0] && now.unit[1] === hit[1];
      now.unit = same ? null : hit;
      sendWish(name);
      scheduleDraw();
    });
  }
  // A new lab does not know what this page had asked to see.
  RUNS.filter((name) => page.runs[name] && (page.runs[name].show === 'regions' || page.runs[name].unit)).forEach(sendWish);
}

/// Tells the server what run `name`'s panel shows of the network.
function sendWish(name) {
  const run = page.runs[name];
  const body = { run: name, regions: run.show === 'regions' };
  if (run.unit) body.unit = run.unit;
  control('view', body);
}

async function download(name) {
  try {
    const response = await api('GET', `/api/labs/${page.lab.id}/runs/${name}/archive`);
    const folder = response.headers.get('x-archive-folder');
    const blob = await response.blob();
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `${folder}.tar.gz`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    page.runs[name].folder = folder;
    scheduleDraw();
  } catch (error) {
    showError(error);
  }
}

function formatNumber(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4)) return value.toExponential(2);
  return value.toPrecision(4);
}

function shownAccuracy(record) {
  if (!record) return null;
  return record.val_accuracy ?? record.train_accuracy ?? null;
}

function setStatus() {
  const states = RUNS.filter((name) => page.runs[name]).map((name) => page.runs[name].view.state);
  const running = states.includes('running');
  $('#status').textContent = page.lab ? (running ? 'training…' : states.join(' / ')) : '';
  $('#pause').disabled = !running;
  $('#start').disabled = running || states.every((state) => state !== 'paused');
  $('#step').disabled = running || states.every((state) => state !== 'paused');
}

/// The commands that take a downloaded run to the command line.
/// The commands that continue this run on the command line, as they work
/// now: nothing before the first epoch; a finished run resumes only with
/// more epochs than it planned.
function commandText(run) {
  const view = run.view;
  if (view.epoch === 0) return 'Nothing trained yet: press Start or Step, then download the run.';
  const dir = run.folder || 'DIR';
  const backend = run.info.backend_name;
  const changes = view.lr_changes || [];
  const replayed = changes.length ? changes[0].after_epoch : view.epoch;
  const finished = view.epoch >= view.epochs;
  const resume = finished
    ? `train --resume ${dir} --backend ${backend} --epochs ${view.epochs * 2}`
    : `train --resume ${dir} --backend ${backend}`;
  return [
    `tar xzf ${dir}.tar.gz`,
    `train --config ${dir}/config.toml --backend ${backend} --epochs ${replayed}`,
    resume,
    `train predict --model ${dir} --input points.csv`,
  ].join('\n');
}

function drawPanel(name) {
  const run = page.runs[name];
  const panel = $(`#run-${name}`);
  if (!run || !panel.firstElementChild) return;
  const view = run.view;
  const last = run.records[run.records.length - 1];
  $('.state', panel).textContent = `(${view.state}, ${view.epoch}/${view.epochs})`;
  $('.epoch', panel).textContent = view.epoch;
  $('.loss', panel).textContent = formatNumber(last && (last.train_loss ?? last.loss));
  $('.val-loss', panel).textContent = formatNumber(last && last.val_loss);
  // The penalty apart from the data's losses, when the run has one.
  $('.penalty-shown', panel).hidden = !(last && last.penalty !== null && last.penalty !== undefined);
  $('.penalty', panel).textContent = formatNumber(last && last.penalty);
  const accuracy = shownAccuracy(last);
  const shown = $('.accuracy', panel);
  shown.textContent = accuracy === null ? '–' : `${(accuracy * 100).toFixed(1)}%`;
  shown.dataset.value = accuracy === null ? '' : String(accuracy);
  // The run's one learning-rate field is the form's: it says the rate now,
  // and "Set now" changes it while the run is paused mid-run.
  $(`#lr-now-${name}`).textContent = `now ${view.lr}`;
  $(`.set-lr[data-run="${name}"]`).disabled = !(view.state === 'paused' && view.epoch > 0);
  // Why it diverged, else a loss that rose above its start (lr too high?).
  $('.message', panel).textContent = view.message || view.rise || '';
  $('.command', panel).textContent = commandText(run);
  const changes = view.lr_changes || [];
  $('.lr-note', panel).textContent = changes.length
    ? `The learning rate changed after epoch ${changes[0].after_epoch}: config.toml replays only its start ` +
      `(epochs 1–${changes[0].after_epoch}); metrics.csv's lr column has every epoch's rate, and ` +
      '--resume continues at the config\'s rate.'
    : '';
  drawLayers(panel, last);
  drawPicture($('.surface', panel), run, $('.picture-note', panel));
  drawRegionCount(panel, run);
  drawDiagram(panel, run);
  drawFocus(panel, run);
}

function drawLayers(panel, record) {
  const body = $('.layers tbody', panel);
  body.innerHTML = '';
  if (!record || !record.grad_norm.length) return;
  // One scale for both panels, so their bars compare by eye.
  const norms = RUNS.flatMap((name) => {
    const run = page.runs[name];
    const last = run && run.records[run.records.length - 1];
    return last ? last.grad_norm : [];
  });
  const largest = Math.max(...norms, ...record.grad_norm, 1e-12);
  record.grad_norm.forEach((norm, index) => {
    const row = document.createElement('tr');
    const share = (value) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(0)}%`);
    const width = Math.max(1, Math.round((60 * norm) / largest));
    row.innerHTML = `<td>${index + 1}</td><td><span class="bar" style="width:${width}px"></span>${formatNumber(norm)}</td>` +
      `<td>${share(record.dead[index])}</td><td>${share(record.saturated[index])}</td>`;
    body.appendChild(row);
  });
}

// ---- the picture: decision surface or fitted curve -------------------------

/// The class map of the figures: class 0's red (0) through white (0.5) to
/// class 1's blue (1); `pale` mixes in white, so that the points stand out
/// on the surface.
function shade(value, pale = 0) {
  const t = Math.min(1, Math.max(0, value));
  const stops = PALETTE.classMap;
  const at = t * (stops.length - 1);
  const low = Math.min(stops.length - 2, Math.floor(at));
  const s = at - low;
  return stops[low].map((c, i) => {
    const mixed = c + (stops[low + 1][i] - c) * s;
    return Math.round(mixed + (255 - mixed) * pale);
  });
}

/// A point's colour: its class's.
function classColour(label) {
  const [r, g, b] = label > 0.5 ? PALETTE.class1 : PALETTE.class0;
  return `rgb(${r},${g},${b})`;
}

function drawPicture(canvas, run, note) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const points = page.lab.points;
  const picture = run.picture;
  if (!points) {
    note.textContent = 'This data has more than two inputs: no picture, see the curves below.';
    $('.picture-toggle', canvas.closest('.run')).hidden = true;
    return;
  }
  note.textContent = '';
  const panel = canvas.closest('.run');
  const toggle = $('.picture-toggle', panel);
  toggle.hidden = !points.bounds;
  if (points.bounds) {
    const regions = run.show === 'regions' ? run.regions : null;
    if (regions && regions.kind === 'exact' && regions.polygons) {
      drawRegions(context, width, height, regions.polygons, picture, points);
      drawScale(panel, null);
      note.textContent = 'Each pale piece: where the network is one linear map (exact, not sampled); ' +
        'grey: their borders; black: the 0.5 boundary; dots: the data, red class 0, blue class 1.';
    } else {
      const scale = drawSurface(context, width, height, picture, points);
      drawScale(panel, scale, picture && picture.probabilities);
    }
    if (run.focus && run.unit) {
      note.innerHTML = `${note.textContent ? `${note.textContent} ` : ''}<span style="color:${SWITCH_COLOUR}">╌ magenta</span>: ` +
        `where hidden layer ${run.unit[0] + 1}'s unit ${run.unit[1] + 1} switches.`;
    }
    // How many segments of the clicked unit's line the picture shows.
    run.switchSegments = run.focus && run.unit ? drawSwitchingLine(context, width, height, run.focus.pre, points.bounds) : 0;
  } else {
    drawScale(panel, null);
    const { px, invert } = drawCurve(context, width, height, picture, points, COLORS[run.info.name]);
    run.curveMapping = { invert };
    note.innerHTML = `<span style="color:${COLORS[run.info.name]}">━</span> this run's fit, ╌ the true function` +
      (points.truth ? '' : ' (none for this data)') + ', ● training data' +
      ($('#show-validation').checked ? ', ○ validation data' : '');
    run.switchSegments = run.focus && run.unit && picture && picture.kind === 'curve'
      ? drawSwitchPoints(context, height, run.focus.pre, picture, px) : 0;
  }
}

/// The box's coordinates on a canvas, x2 upwards.
function planeMapping(width, height, bounds) {
  const [[x1lo, x1hi], [x2lo, x2hi]] = bounds;
  return {
    px: (x1) => ((x1 - x1lo) / (x1hi - x1lo)) * width,
    py: (x2) => height - ((x2 - x2lo) / (x2hi - x2lo)) * height,
    // Grid node (i, j) of an n x n grid over the box.
    node: (i, j, n) => [x1lo + (i * (x1hi - x1lo)) / (n - 1), x2lo + (j * (x2hi - x2lo)) / (n - 1)],
  };
}

/// The exact linear regions: each a pale fill with a thin border, the 0.5
/// boundary bold on top, then the points.
function drawRegions(context, width, height, polygons, picture, points) {
  const { px, py, node } = planeMapping(width, height, points.bounds);
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  polygons.forEach((corners, index) => {
    context.beginPath();
    for (let k = 0; k < corners.length; k += 2) {
      const [x, y] = [px(corners[k]), py(corners[k + 1])];
      if (k) context.lineTo(x, y); else context.moveTo(x, y);
    }
    context.closePath();
    context.fillStyle = PALETTE.regions[index % PALETTE.regions.length];
    context.fill();
    context.strokeStyle = '#6e6e6e';
    context.lineWidth = 0.7;
    context.stroke();
  });
  if (picture && picture.kind === 'surface') {
    const n = picture.resolution;
    context.strokeStyle = '#000';
    context.lineWidth = 2;
    context.beginPath();
    for (const [[i0, j0], [i1, j1]] of boundarySegments(picture.values, n)) {
      const [a, b] = [node(i0, j0, n), node(i1, j1, n)];
      context.moveTo(px(a[0]), py(a[1]));
      context.lineTo(px(b[0]), py(b[1]));
    }
    context.stroke();
  }
  drawPoints(context, px, py, points);
}

/// A clicked unit's switching line (its pre-activation's 0) on the picture:
/// dashed, white under black, so it shows on every colour.
function drawSwitchingLine(context, width, height, pre, bounds) {
  const n = Math.round(Math.sqrt(pre.length));
  const { px, py, node } = planeMapping(width, height, bounds);
  const segments = boundarySegments(pre, n, 0);
  // Magenta, dashed over white: never mistaken for the black 0.5 boundary.
  for (const [colour, lineWidth, dash] of [['#fff', 4, []], [SWITCH_COLOUR, 2.5, [7, 4]]]) {
    context.strokeStyle = colour;
    context.lineWidth = lineWidth;
    context.setLineDash(dash);
    context.beginPath();
    for (const [[i0, j0], [i1, j1]] of segments) {
      const [a, b] = [node(i0, j0, n), node(i1, j1, n)];
      context.moveTo(px(a[0]), py(a[1]));
      context.lineTo(px(b[0]), py(b[1]));
    }
    context.stroke();
  }
  context.setLineDash([]);
  return segments.length;
}

/// A clicked unit's switching points on a 1-D fit: dashed vertical lines.
function drawSwitchPoints(context, height, pre, picture, px) {
  context.strokeStyle = SWITCH_COLOUR;
  context.lineWidth = 1.8;
  context.setLineDash([6, 4]);
  let found = 0;
  for (let i = 0; i + 1 < pre.length && i + 1 < picture.points.length; i++) {
    if ((pre[i] > 0) !== (pre[i + 1] > 0)) {
      const x = px((picture.points[i][0] + picture.points[i + 1][0]) / 2);
      context.beginPath();
      context.moveTo(x, 0);
      context.lineTo(x, height);
      context.stroke();
      found++;
    }
  }
  context.setLineDash([]);
  return found;
}

/// The region count beside the toggle, in words.
function drawRegionCount(panel, run) {
  const regions = run.regions;
  const label = $('.region-count', panel);
  if (!regions) { label.textContent = ''; return; }
  if (regions.kind === 'exact') {
    const drawn = run.show === 'regions' && !regions.polygons && regions.count > 5000 ? ' (too many to draw live; `train regions` draws them)' : '';
    label.textContent = `${regions.count.toLocaleString('en')} ${regions.count === 1 ? 'region' : 'regions'}${drawn}`;
  } else if (regions.kind === 'stopped') {
    label.textContent = `stopped at ${regions.reached.toLocaleString('en')}+ regions (\`train regions\` on the download maps up to 100,000)`;
    label.title = regions.why;
  } else {
    const smooth = regions.why.match(/^(\S+) is smooth/);
    label.textContent = smooth ? `${smooth[1]} is smooth: no linear regions` : 'curved inputs: no exact map';
    label.title = regions.why;
  }
}

/// The class scale of a surface, as the figures draw it: centred on the
/// decision level 0.5 and stretched to the surface's own range, so a nearly
/// flat network is still visibly two-sided.
function classScale(values) {
  const half = values.reduce((most, v) => (Number.isFinite(v) ? Math.max(most, Math.abs(v - 0.5)) : most), 0.005);
  return { half, position: (v) => 0.5 + (v - 0.5) / (2 * half), stretched: half < 0.45 };
}

/// The `level` line of a grid (`values[j * n + i]`) by marching squares,
/// as segments in grid units: the 0.5 boundary, or a unit's switching line.
function boundarySegments(values, n, level = 0.5) {
  const segments = [];
  for (let j = 0; j + 1 < n; j++) {
    for (let i = 0; i + 1 < n; i++) {
      const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
      const v = corners.map(([a, b]) => values[b * n + a]);
      const crossings = [];
      for (let e = 0; e < 4; e++) {
        const [from, to] = [v[e], v[(e + 1) % 4]];
        if ((from < level) !== (to < level)) {
          const t = (level - from) / (to - from);
          const [[x0, y0], [x1, y1]] = [corners[e], corners[(e + 1) % 4]];
          crossings.push([x0 + t * (x1 - x0), y0 + t * (y1 - y0)]);
        }
      }
      for (let k = 0; k + 1 < crossings.length; k += 2) segments.push([crossings[k], crossings[k + 1]]);
    }
  }
  return segments;
}

/// The colour bar and class legend under a surface.
function drawScale(panel, scale, probabilities) {
  const box = $('.scale', panel);
  if (!box) return;
  box.hidden = !scale;
  if (!scale) return;
  const bar = $('.colour-bar', box);
  const context = bar.getContext('2d');
  for (let x = 0; x < bar.width; x++) {
    const [r, g, b] = shade(x / (bar.width - 1), 0.45);
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.fillRect(x, 0, 1, bar.height);
  }
  $('.scale-low', box).textContent = formatNumber(0.5 - scale.half);
  $('.scale-high', box).textContent = formatNumber(0.5 + scale.half);
  $('.scale-name', box).textContent = probabilities ? 'p(class 1), 0.5 in the middle' : 'output, 0.5 in the middle';
  $('.class0', box).style.background = classColour(0);
  $('.class1', box).style.background = classColour(1);
  $('.stretched', box).textContent = $('#discretize').checked
    ? '(discretized: each class\'s colour, split at 0.5)'
    : scale.stretched ? '(colours stretched to this range)' : '';
  const rings = $('#show-validation').checked && page.lab.points && page.lab.points.validation_from < page.lab.points.rows.length;
  $('.ring', box).hidden = !rings;
  $('.ring-label', box).hidden = !rings;
}

function drawSurface(context, width, height, picture, points) {
  const [[x1lo, x1hi], [x2lo, x2hi]] = points.bounds;
  const px = (x1) => ((x1 - x1lo) / (x1hi - x1lo)) * width;
  const py = (x2) => height - ((x2 - x2lo) / (x2hi - x2lo)) * height;
  let scale = null;
  if (picture && picture.kind === 'surface') {
    const n = picture.resolution;
    scale = classScale(picture.values);
    const image = context.createImageData(n, n);
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const value = picture.values[j * n + i];
        // Discretised: each class's colour, split at 0.5 (Playground's "discretize output").
        const position = $('#discretize').checked ? (value >= 0.5 ? 1 : 0) : scale.position(value);
        const [r, g, b] = shade(position, 0.45);
        const at = ((n - 1 - j) * n + i) * 4;   // x2 grows upwards
        image.data[at] = r;
        image.data[at + 1] = g;
        image.data[at + 2] = b;
        image.data[at + 3] = 255;
      }
    }
    const scratch = document.createElement('canvas');
    scratch.width = scratch.height = n;
    scratch.getContext('2d').putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(scratch, 0, 0, width, height);
    // The decision boundary, always: the grid's values sit on its nodes.
    const along = (i, lo, hi) => lo + (i * (hi - lo)) / (n - 1);
    context.strokeStyle = '#000';
    context.lineWidth = 2;
    context.beginPath();
    for (const [[i0, j0], [i1, j1]] of boundarySegments(picture.values, n)) {
      context.moveTo(px(along(i0, x1lo, x1hi)), py(along(j0, x2lo, x2hi)));
      context.lineTo(px(along(i1, x1lo, x1hi)), py(along(j1, x2lo, x2hi)));
    }
    context.stroke();
  }
  drawPoints(context, px, py, points, scale);
  return scale;
}

/// The data's points in their classes' colours, white-rimmed.
/// Validation rows (never trained on) as rings in their class's colour,
/// when "validation data" is ticked.
function drawPoints(context, px, py, points, scale = null) {
  const showValidation = $('#show-validation').checked;
  // Targets that are values, not classes: on the surface's own colour scale.
  const colour = !points.classes && scale
    ? (value) => { const [r, g, b] = shade(scale.position(value)); return `rgb(${r},${g},${b})`; }
    : classColour;
  points.rows.forEach(([x1, x2, label], index) => {
    const validation = index >= points.validation_from;
    if (validation && !showValidation) return;
    const [x, y] = [px(x1), py(x2)];
    context.beginPath();
    context.arc(x, y, 3, 0, 2 * Math.PI);
    if (validation) {
      context.fillStyle = '#fff';
      context.fill();
      context.strokeStyle = colour(label);
      context.lineWidth = 1.8;
    } else {
      context.fillStyle = colour(label);
      context.fill();
      context.strokeStyle = '#fff';
      context.lineWidth = 1;
    }
    context.stroke();
  });
}

/// A 1-D fit as the figures draw it: axes ticked at 1-2-5 steps, the data
/// (validation rows as rings, when shown), the true function dashed, the
/// run's fit in the run's colour. Returns the x mapping.
function drawCurve(context, width, height, picture, points, colour) {
  const margin = { left: 34, right: 8, top: 8, bottom: 20 };
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  const curve = picture && picture.kind === 'curve' ? picture.points : [];
  const truth = points.truth || [];
  const xs = points.rows.map((row) => row[0]).concat(curve.map((p) => p[0]));
  const ys = points.rows.map((row) => row[1]).concat(curve.map((p) => p[1]), truth.map((p) => p[1]));
  const [xlo, xhi] = [Math.min(...xs), Math.max(...xs)];
  let [ylo, yhi] = [Math.min(...ys), Math.max(...ys)];
  const pad = (yhi - ylo) * 0.08 || 1;
  ylo -= pad;
  yhi += pad;
  const px = (x) => margin.left + ((x - xlo) / (xhi - xlo || 1)) * (width - margin.left - margin.right);
  const py = (y) => margin.top + (1 - (y - ylo) / (yhi - ylo)) * (height - margin.top - margin.bottom);
  context.font = '10px sans-serif';
  context.fillStyle = '#555';
  context.strokeStyle = '#e4e4e4';
  context.lineWidth = 1;
  for (const tick of linearTicks(ylo, yhi, 4)) {
    context.beginPath();
    context.moveTo(margin.left, py(tick));
    context.lineTo(width - margin.right, py(tick));
    context.stroke();
    context.textAlign = 'right';
    context.fillText(tickLabel(tick), margin.left - 3, py(tick) + 3);
  }
  context.textAlign = 'center';
  for (const tick of linearTicks(xlo, xhi, 5)) context.fillText(tickLabel(tick), px(tick), height - 6);
  context.textAlign = 'start';
  context.strokeStyle = '#999';
  context.beginPath();
  context.moveTo(margin.left, margin.top);
  context.lineTo(margin.left, height - margin.bottom);
  context.lineTo(width - margin.right, height - margin.bottom);
  context.stroke();
  const showValidation = $('#show-validation').checked;
  points.rows.forEach(([x, y], index) => {
    const validation = index >= points.validation_from;
    if (validation && !showValidation) return;
    context.beginPath();
    context.arc(px(x), py(y), 2, 0, 2 * Math.PI);
    if (validation) {
      context.strokeStyle = '#555';
      context.stroke();
    } else {
      context.fillStyle = '#aaa';
      context.fill();
    }
  });
  const line = (pairs) => {
    context.beginPath();
    pairs.forEach(([x, y], index) => (index ? context.lineTo(px(x), py(y)) : context.moveTo(px(x), py(y))));
    context.stroke();
  };
  context.strokeStyle = '#000';
  context.lineWidth = 1.2;
  context.setLineDash([5, 4]);
  line(truth);
  context.setLineDash([]);
  context.strokeStyle = colour;
  context.lineWidth = 2.2;
  line(curve);
  // A click's canvas position back in the data's coordinates.
  const invert = (cx, cy) => [
    xlo + ((cx - margin.left) / (width - margin.left - margin.right)) * (xhi - xlo || 1),
    ylo + (1 - (cy - margin.top) / (height - margin.top - margin.bottom)) * (yhi - ylo),
  ];
  return { px, invert };
}

// ---- the network diagram -------------------------------------------------

/// Where the diagram draws each unit: columns for the inputs, each hidden
/// layer (its first units) and the output; `nodes[c][k]` is a centre.
function diagramLayout(diagram, width) {
  const columns = [diagram.inputs.length, ...diagram.layers.map((layer) => layer.length), 1];
  const most = Math.max(...columns);
  // Thumbnails as large as the columns' spacing leaves room for edges.
  const spacing = (width - 24) / (columns.length - 1);
  const thumb = Math.max(6, Math.min(most <= 8 ? 24 : 15, Math.floor(spacing * 0.6)));
  const gap = most <= 8 ? 6 : 3;
  const height = Math.max(70, most * (thumb + gap) + 24);
  const left = Math.max(12, thumb / 2 + 1);
  const right = width - left;
  const nodes = columns.map((count, c) => {
    const x = left + ((right - left) * c) / (columns.length - 1);
    const top = (height - 14 - count * (thumb + gap)) / 2;
    return Array.from({ length: count }, (_, k) => ({ x, y: top + k * (thumb + gap) + (thumb + gap) / 2 }));
  });
  return { thumb, height, nodes };
}

/// The hidden unit `[layer, unit]` under canvas point (x, y), if any.
function unitAt(layout, x, y) {
  const half = layout.thumb / 2 + 1;
  for (let c = 1; c + 1 < layout.nodes.length; c++) {
    const k = layout.nodes[c].findIndex((node) => Math.abs(node.x - x) <= half && Math.abs(node.y - y) <= half);
    if (k >= 0) return [c - 1, k];
  }
  return null;
}

/// A unit's thumbnail (0..255 scaled output) as greys, white low, dark high.
function thumbImage(values, n, size) {
  const scratch = document.createElement('canvas');
  scratch.width = scratch.height = n;
  const image = scratch.getContext('2d').createImageData(n, n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const grey = Math.round(250 - (values[j * n + i] * 210) / 255);
      const at = ((n - 1 - j) * n + i) * 4;
      image.data.set([grey, grey, grey, 255], at);
    }
  }
  scratch.getContext('2d').putImageData(image, 0, 0);
  return scratch;
}

function drawDiagram(panel, run) {
  const canvas = $('.diagram', panel);
  const diagram = run.diagram;
  $('.diagram-box', panel).hidden = !diagram;
  if (!diagram) return;
  const layout = diagramLayout(diagram, canvas.width);
  if (canvas.height !== layout.height) {
    canvas.height = layout.height;
    canvas.style.height = `${layout.height}px`;
  }
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  const { thumb, nodes } = layout;
  const half = thumb / 2;
  // Edges first, under the units: colour by sign, width by size.
  diagram.weights.forEach((rows, c) => {
    const largest = Math.max(1e-12, ...rows.flat().map(Math.abs));
    rows.forEach((row, to) => row.forEach((weight, from) => {
      const [a, b] = [nodes[c][from], nodes[c + 1][to]];
      if (!a || !b) return;
      context.strokeStyle = weight >= 0 ? PALETTE.weights[0] : PALETTE.weights[1];
      context.globalAlpha = 0.25 + 0.6 * (Math.abs(weight) / largest);
      context.lineWidth = 0.3 + 2.7 * (Math.abs(weight) / largest);
      context.beginPath();
      context.moveTo(a.x + half, a.y);
      context.lineTo(b.x - half, b.y);
      context.stroke();
    }));
  });
  context.globalAlpha = 1;
  context.font = '10px sans-serif';
  context.textAlign = 'center';
  // Inputs and output: named boxes.
  nodes[0].forEach((node, k) => {
    context.fillStyle = '#f2f2f2';
    context.fillRect(node.x - half, node.y - half, thumb, thumb);
    context.strokeStyle = '#999';
    context.lineWidth = 1;
    context.strokeRect(node.x - half, node.y - half, thumb, thumb);
    context.fillStyle = '#333';
    context.fillText(diagram.inputs[k] || '', node.x, node.y + 3);
  });
  const out = nodes[nodes.length - 1][0];
  context.beginPath();
  context.arc(out.x, out.y, half, 0, 2 * Math.PI);
  context.fillStyle = '#f2f2f2';
  context.fill();
  context.strokeStyle = '#999';
  context.stroke();
  context.fillStyle = '#333';
  context.fillText('out', out.x, out.y + 3);
  const flagged = { dead: 0, saturated: 0 };
  diagram.layers.forEach((layer, l) => layer.forEach((unit, k) => {
    const node = nodes[l + 1][k];
    const [x, y] = [node.x - half, node.y - half];
    if (diagram.resolution && unit.values.length === diagram.resolution ** 2) {
      context.imageSmoothingEnabled = false;
      context.drawImage(thumbImage(unit.values, diagram.resolution, thumb), x, y, thumb, thumb);
    } else {
      // A 1-D unit: its curve.
      context.fillStyle = '#fff';
      context.fillRect(x, y, thumb, thumb);
      context.strokeStyle = '#333';
      context.lineWidth = 1;
      context.beginPath();
      unit.values.forEach((v, i) => {
        const [cx, cy] = [x + (i * thumb) / (unit.values.length - 1), y + thumb - (v * thumb) / 255];
        if (i) context.lineTo(cx, cy); else context.moveTo(cx, cy);
      });
      context.stroke();
    }
    const focused = run.unit && run.unit[0] === l && run.unit[1] === k;
    if (unit.flag) flagged[unit.flag]++;
    context.setLineDash(unit.flag === 'dead' ? [3, 2] : []);
    context.strokeStyle = focused ? '#000' : unit.flag === 'saturated' ? '#b8860b' : unit.flag === 'dead' ? '#000' : '#aaa';
    context.lineWidth = focused ? 3 : unit.flag ? 2 : 1;
    context.strokeRect(x, y, thumb, thumb);
    context.setLineDash([]);
  }));
  // Wider layers than drawn: how many more.
  context.fillStyle = '#666';
  diagram.layers.forEach((layer, l) => {
    const more = diagram.sizes[l + 1] - layer.length;
    if (more > 0) {
      const last = nodes[l + 1][layer.length - 1];
      context.fillText(`+${more}`, last.x, last.y + half + 11);
    }
  });
  context.textAlign = 'start';
  const marks = [];
  if (flagged.dead) marks.push(`${flagged.dead} dead (dashed: never active on the data)`);
  if (flagged.saturated) marks.push(`${flagged.saturated} saturated (amber)`);
  $('.diagram-note', panel).innerHTML =
    `edges: <span style="color:${PALETTE.weights[0]}">■</span> positive, <span style="color:${PALETTE.weights[1]}">■</span> negative weight, wider = larger` +
    (marks.length ? `; ${marks.join(', ')}` : '');
}

/// The clicked unit, enlarged: its output over the picture's box and where
/// it switches.
function drawFocus(panel, run) {
  const box = $('.focus-box', panel);
  const focus = run.focus;
  box.hidden = !(focus && run.unit);
  if (box.hidden) return;
  const canvas = $('.focus', panel);
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  const [low, high] = focus.post.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
  const span = Math.max(high - low, 1e-12);
  const scaled = focus.post.map((v) => Math.round((255 * (v - low)) / span));
  const plane = page.lab.points && page.lab.points.bounds;
  context.clearRect(0, 0, width, height);
  if (plane) {
    const n = Math.round(Math.sqrt(scaled.length));
    context.imageSmoothingEnabled = true;
    context.drawImage(thumbImage(scaled, n, width), 0, 0, width, height);
    drawSwitchingLine(context, width, height, focus.pre, plane);
  } else {
    context.strokeStyle = '#333';
    context.lineWidth = 1.5;
    context.beginPath();
    scaled.forEach((v, i) => {
      const [x, y] = [(i * width) / (scaled.length - 1), height - 4 - (v * (height - 8)) / 255];
      if (i) context.lineTo(x, y); else context.moveTo(x, y);
    });
    context.stroke();
  }
  $('.focus-note', panel).innerHTML =
    `<b>hidden layer ${focus.layer + 1}, unit ${focus.unit + 1}</b><br>output from ${formatNumber(low)} (white) to ${formatNumber(high)} (dark)` +
    `<br><span style="color:${SWITCH_COLOUR}">╌ magenta</span>: where it switches (its input crosses 0), also on the picture beside<br>click it again to close`;
}

// ---- curves over epochs ----------------------------------------------------

/// Ticks at a 1-2-5 step over [lo, hi], about `target` of them.
function linearTicks(lo, hi, target) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude)
    .reduce((best, s) => (Math.abs((hi - lo) / s - target) < Math.abs((hi - lo) / best - target) ? s : best));
  const ticks = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi * (1 + 1e-9) + 1e-12; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/// Log-axis ticks: decades, else 1-2-5, else 1..9 per decade, whichever
/// first puts three inside [lo, hi]; else linear ticks.
function logTicks(lo, hi) {
  if (!(lo > 0 && hi > lo)) return [lo];
  for (const mantissas of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks = [];
    for (let d = Math.floor(Math.log10(lo)); d <= Math.ceil(Math.log10(hi)); d++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** d).toPrecision(12));
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
      }
    }
    if (ticks.length >= 3) return ticks.filter((_, i) => i % Math.ceil(ticks.length / 8) === 0);
  }
  return linearTicks(lo, hi, 4);
}

/// A tick label: a plain number where one fits (0.05, 2, 40).
function tickLabel(value) {
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(6));
  if (Math.abs(rounded) >= 1e-4 && Math.abs(rounded) < 1e7) return String(rounded);
  return rounded.toExponential().replace('e+', 'e');
}

/// The charts' legend: each run in its colour, train solid, validation dashed.
/// Whether run `name` records a weight penalty.
function penalised(name) {
  return page.runs[name].records.some((record) => record.penalty !== null && record.penalty !== undefined);
}

function drawChartLegends() {
  const parts = (withPenalty) => RUNS.filter((name) => page.runs[name]).map((name) => {
    const colour = COLORS[name];
    const activation = page.runs[name].info.activation || '';
    return `<span class="keep"><b style="color:${colour}">${name}</b> ${activation}</span>` +
      `<span class="swatch" style="border-color:${colour}"></span>train` +
      `<span class="swatch dashed" style="border-color:${colour}"></span>validation` +
      (withPenalty && penalised(name) ? `<span class="swatch dotted" style="border-color:${colour}"></span>penalty` : '');
  });
  $('#loss-chart').closest('figure').querySelector('.chart-legend').innerHTML = parts(true).join(' &nbsp; ');
  $('#accuracy-chart').closest('figure').querySelector('.chart-legend').innerHTML = parts(false).join(' &nbsp; ');
}

function drawChart(canvas, series, { log, min, max }) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  const margin = { left: 48, right: 8, top: 8, bottom: 20 };
  context.clearRect(0, 0, width, height);
  const transform = (v) => (log ? Math.log10(v) : v);
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const epochs = series.flatMap((s) => s.points.map((p) => p[0]));
  if (!values.length) return;
  let lo = min ?? Math.min(...values.map(transform));
  let hi = max ?? Math.max(...values.map(transform));
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const lastEpoch = Math.max(...epochs, 1);
  const px = (epoch) => margin.left + ((epoch - 1) / Math.max(lastEpoch - 1, 1)) * (width - margin.left - margin.right);
  const py = (v) => margin.top + (1 - (transform(v) - lo) / (hi - lo)) * (height - margin.top - margin.bottom);
  context.strokeStyle = '#ccc';
  context.fillStyle = '#666';
  context.font = '11px sans-serif';
  context.lineWidth = 1;
  // Ticks as the figures place them: 1-2-5 steps, three or more on a log axis.
  const ticks = log ? logTicks(10 ** lo, 10 ** hi) : linearTicks(lo, hi, 4);
  for (const tick of ticks) {
    const y = py(tick);
    context.beginPath();
    context.moveTo(margin.left, y);
    context.lineTo(width - margin.right, y);
    context.stroke();
    context.fillText(tickLabel(tick), 2, y + 4);
  }
  for (const epoch of linearTicks(1, lastEpoch, 6).filter((e) => Number.isInteger(e) && e >= 1)) {
    const label = String(epoch);
    const x = Math.min(px(epoch) - 3 * label.length, width - margin.right - 6 * label.length);
    context.fillText(label, x, height - 4);
  }
  for (const s of series) {
    context.strokeStyle = s.color;
    context.lineWidth = 1.6;
    context.setLineDash(s.dashed ? [5, 4] : s.dotted ? [1.5, 3] : []);
    context.beginPath();
    let started = false;
    for (const [epoch, v] of s.points) {
      if (!Number.isFinite(v) || (log && v <= 0)) continue;
      if (started) context.lineTo(px(epoch), py(v));
      else context.moveTo(px(epoch), py(v));
      started = true;
    }
    context.stroke();
  }
  context.setLineDash([]);
}

function drawCharts() {
  const loss = [];
  const accuracy = [];
  for (const name of RUNS) {
    const run = page.runs[name];
    if (!run) continue;
    const pick = (key) => run.records.filter((r) => r[key] !== null && r[key] !== undefined).map((r) => [r.epoch, r[key]]);
    const color = COLORS[name];
    loss.push({ color, points: pick('train_loss').length ? pick('train_loss') : pick('loss') });
    loss.push({ color, dashed: true, points: pick('val_loss') });
    loss.push({ color, dotted: true, points: pick('penalty') });
    accuracy.push({ color, points: pick('train_accuracy') });
    accuracy.push({ color, dashed: true, points: pick('val_accuracy') });
  }
  drawChartLegends();
  drawChart($('#loss-chart'), loss, { log: true });
  drawChart($('#accuracy-chart'), accuracy, { log: false, min: 0, max: 1 });
  // A fit (mse) has no accuracy: no empty chart for it.
  const classifies = page.lab.runs.some((info) => /loss = "bce"/.test(info.config_toml));
  $('#accuracy-chart').closest('figure').hidden = !classifies;
  // The region count over training: one line per run with a count.
  const counted = RUNS.filter((name) => page.runs[name] && page.runs[name].regionCounts.length);
  $('#regions-figure').hidden = !page.lab.points || !page.lab.points.bounds;
  const regions = counted.map((name) => ({
    color: COLORS[name],
    points: page.runs[name].regionCounts.map(([epoch, count]) => [Math.max(epoch, 1), count]),
  }));
  drawChart($('#regions-chart'), regions, { log: true, min: 0 });
  $('.regions-legend').innerHTML = counted.map((name) =>
    `<span class="keep"><b style="color:${COLORS[name]}">${name}</b> ${page.runs[name].info.activation}<span class="swatch" style="border-color:${COLORS[name]}"></span></span>`).join(' &nbsp; ');
  const uncounted = RUNS.filter((name) => page.runs[name] && !page.runs[name].regionCounts.length);
  $('#regions-note').textContent = uncounted.length
    ? `${uncounted.map((name) => `${name} (${page.runs[name].info.activation})`).join(', ')}: no linear regions to count`
    : 'counted while training, in at most 3% of its time; epoch 0 is drawn at 1';
}

function scheduleDraw() {
  if (page.drawing) return;
  page.drawing = true;
  requestAnimationFrame(() => {
    page.drawing = false;
    if (!page.lab) return;
    RUNS.forEach(drawPanel);
    drawCharts();
    setStatus();
  });
}

/// The server's limits on a run (GET /api/options), in one line under the form.
function limitsText(limits) {
  return `Each run takes at most ${limits.max_samples} samples, ${limits.max_inputs} inputs, ` +
    `${limits.max_hidden_layers} hidden layers of ${limits.max_width} units, ` +
    `${limits.max_outputs} outputs (classes) and ${limits.max_epochs} epochs.`;
}

// ---- wiring ---------------------------------------------------------------

async function main() {
  page.options = await (await api('GET', '/api/options')).json();
  fillForm(page.options);
  $('#limits-hint').textContent = limitsText(page.options.limits);
  $('#settings').addEventListener('input', markChanged);
  $('#settings').addEventListener('submit', (event) => event.preventDefault());
  $('#data-kind').addEventListener('change', () => {
    const kind = $('#data-kind').value;
    const preset = presetFor(kind);
    // "Your data" with none yet starts from the picture's points, to click on.
    if (kind === OWN && !page.own && page.lab && page.lab.points) {
      setOwnData(`${JSON.parse(page.applied).shared['data.kind']} points`, pointsCsv(page.lab.points), true);
    }
    if (preset) fillSettings(preset.config);
    else if (kind === OWN) $('#loss').value = page.own ? page.own.loss : 'bce';
    else $('#loss').value = isPlane(kind) ? 'bce' : 'mse';
    showKindRows();
    showPresetNote();
    markChanged();
  });
  $('#add-layer').addEventListener('click', () => {
    const widths = $('#hidden').querySelectorAll('input');
    hiddenInput(widths.length ? widths[widths.length - 1].value : 8);
    markChanged();
  });
  $('#remove-layer').addEventListener('click', () => {
    const widths = $('#hidden').querySelectorAll('input');
    if (widths.length) widths[widths.length - 1].remove();
    markChanged();
  });
  $('#start').addEventListener('click', () => control('start'));
  $('#pause').addEventListener('click', () => control('pause'));
  $('#step').addEventListener('click', () => control('step'));
  $('#reset').addEventListener('click', () => {
    if (settingsKey() === page.applied) control('reset');
    else newLab();
  });
  $('#speed').addEventListener('change', () => control('speed', { speed: Number($('#speed').value) }));
  for (const button of document.querySelectorAll('.set-lr')) {
    button.addEventListener('click', () => {
      const name = button.dataset.run;
      unreadable = [];
      const lr = number(`#lr-${name}`);
      if (unreadable.length) showError(new Error(unreadable[0]));
      else control('lr', { run: name, lr });
    });
  }
  $('#data-file').addEventListener('change', (event) => {
    const file = event.target.files[0];
    if (file) uploadFile(file).catch(showError);
    event.target.value = '';
  });
  $('#data-header').addEventListener('change', () => {
    if (page.own) setOwnData(page.own.name, page.own.csv, $('#data-header').checked);
    markChanged();
  });
  // How the pictures are drawn: no new lab, no reset.
  for (const view of ['#show-validation', '#discretize']) $(view).addEventListener('change', scheduleDraw);
  // A reload keeps the lab (it waits for the page --idle-timeout seconds);
  // a closed tab's lab ends when that time is up.
  let notice = null;
  try {
    const kept = JSON.parse(sessionStorage.getItem('lab-own') || 'null');
    if (kept && typeof kept.csv === 'string') page.own = kept;
  } catch (_) { /* nothing kept */ }
  const setup = setupInAddress();
  if (setup) fillFromSetup(setup);
  if ($('#data-kind').value === OWN && !page.own) {
    // A link carries the settings, not the data (up to 1 MB): back to the default set.
    $('#data-kind').value = page.options.defaults.config.data.kind;
    showKindRows();
    showPresetNote();
    notice = new Error('This link\'s setup trained on its author\'s own data, which a link does not carry: ' +
      'the page uses its default set instead (upload the data under "your data" to train on it).');
  }
  const resumed = await reconnect();
  if ((resumed || await newLab()) && new URLSearchParams(location.search).has('start')) control('start');
  if (notice) showError(notice);
}

main().catch(showError);
