// Tracing the wound edge with a finger (or a stylus, or a mouse) on the photo.
// Pointer events, so touch, pen and mouse behave alike; the canvas has
// touch-action: none, so drawing on it does not scroll the page. Points are
// kept in pixels of the photo as stored (upright): what the API measures.

const MAX_POINTS = 2000;
const MIN_STEP_PX = 3; // on screen: finer than a fingertip is noise

export class Tracer {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.bitmap = null;
    this.strokes = [];
    this.active = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
  }

  async show(blob) {
    // createImageBitmap applies the EXIF orientation, as the server does.
    this.bitmap = await createImageBitmap(blob);
    const scale = Math.min(1, 1600 / Math.max(this.bitmap.width, this.bitmap.height));
    this.canvas.width = Math.round(this.bitmap.width * scale);
    this.canvas.height = Math.round(this.bitmap.height * scale);
    this.strokes = [];
    this.draw();
  }

  imagePoint(e) {
    const box = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * this.bitmap.width;
    const y = ((e.clientY - box.top) / box.height) * this.bitmap.height;
    return [
      Math.min(this.bitmap.width, Math.max(0, Math.round(x * 10) / 10)),
      Math.min(this.bitmap.height, Math.max(0, Math.round(y * 10) / 10)),
    ];
  }

  down(e) {
    if (!this.bitmap || this.active) return;
    this.canvas.setPointerCapture(e.pointerId);
    this.active = { id: e.pointerId, points: [this.imagePoint(e)], last: [e.clientX, e.clientY] };
    this.strokes.push(this.active.points);
    e.preventDefault();
  }

  move(e) {
    if (!this.active || e.pointerId !== this.active.id) return;
    const [lx, ly] = this.active.last;
    if (Math.hypot(e.clientX - lx, e.clientY - ly) < MIN_STEP_PX) return;
    this.active.last = [e.clientX, e.clientY];
    this.active.points.push(this.imagePoint(e));
    this.draw();
  }

  up(e) {
    if (!this.active || e.pointerId !== this.active.id) return;
    this.active = null;
    if (this.strokes.at(-1).length < 2) this.strokes.pop(); // a tap is not a line
    this.draw();
    this.onChange();
  }

  undo() {
    this.strokes.pop();
    this.draw();
    this.onChange();
  }

  clear() {
    this.strokes = [];
    this.draw();
    this.onChange();
  }

  // The outline: every stroke in order, closed by the API. Thinned evenly when long.
  points() {
    const all = this.strokes.flat();
    if (all.length <= MAX_POINTS) return all;
    const step = all.length / MAX_POINTS;
    return Array.from({ length: MAX_POINTS }, (_, i) => all[Math.floor(i * step)]);
  }

  draw() {
    const ctx = this.canvas.getContext("2d");
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    if (!this.bitmap) return;
    ctx.drawImage(this.bitmap, 0, 0, width, height);
    const all = this.strokes.flat();
    if (all.length < 2) return;
    const k = width / this.bitmap.width;
    ctx.lineWidth = Math.max(2, width / 200);
    ctx.strokeStyle = "#00e5ff";
    ctx.setLineDash([]);
    ctx.beginPath();
    all.forEach(([x, y], i) => (i ? ctx.lineTo(x * k, y * k) : ctx.moveTo(x * k, y * k)));
    ctx.stroke();
    ctx.setLineDash([ctx.lineWidth * 2, ctx.lineWidth * 2]);
    ctx.beginPath();
    ctx.moveTo(all.at(-1)[0] * k, all.at(-1)[1] * k);
    ctx.lineTo(all[0][0] * k, all[0][1] * k);
    ctx.stroke();
  }
}
