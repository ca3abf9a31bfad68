// An @azure/core-tracing instrumenter for tests: records every span (name, kind, attributes, status, parent, end
// order) and propagates each span as its own `traceparent` / `tracestate`, as an OpenTelemetry instrumenter does.
//
// const tracer = new RecordingInstrumenter(); useInstrumenter(tracer);
// ... calls ...
// tracer.spans -> [{ name, kind, attributes, status, error, parent, traceparent, ended, endIndex }] in start order

class RecordingContext {
  #values;
  constructor(values = new Map()) {
    this.#values = values;
  }
  getValue(key) {
    return this.#values.get(key);
  }
  setValue(key, value) {
    return new RecordingContext(new Map(this.#values).set(key, value));
  }
  deleteValue(key) {
    const values = new Map(this.#values);
    values.delete(key);
    return new RecordingContext(values);
  }
}

const SPAN = Symbol("span");

class RecordingSpan {
  constructor(recorder, name, options, parent, traceId) {
    this.recorder = recorder;
    this.name = name;
    this.kind = options.spanKind ?? "internal";
    this.attributes = { ...options.spanAttributes };
    this.status = undefined;
    this.error = undefined;
    this.parent = parent;
    this.traceId = traceId;
    this.spanId = recorder.nextId().toString(16).padStart(16, "0");
    this.ended = false;
    this.endIndex = undefined;
  }
  get traceparent() {
    return `00-${this.traceId}-${this.spanId}-01`;
  }
  setAttribute(name, value) {
    if (this.ended) throw new Error(`${this.name}: attribute ${name} set after end`);
    this.attributes[name] = value;
  }
  setStatus(status) {
    if (this.ended) throw new Error(`${this.name}: status set after end`);
    this.status = status.status;
    this.error = status.error;
  }
  end() {
    if (this.ended) throw new Error(`${this.name}: ended twice`);
    this.ended = true;
    this.endIndex = this.recorder.nextEnd();
  }
  isRecording() {
    return this.recorder.recording;
  }
  recordException() {}
  addEvent() {}
}

export class RecordingInstrumenter {
  spans = [];
  /** What spans answer to `isRecording()` (false: as a sampler that drops them). */
  recording = true;
  #ids = 0;
  #ends = 0;

  nextId() {
    return ++this.#ids;
  }
  nextEnd() {
    return this.#ends++;
  }
  reset() {
    this.spans = [];
    this.#ends = 0;
    this.recording = true;
  }

  startSpan(name, spanOptions) {
    const context = spanOptions.tracingContext ?? new RecordingContext();
    const parent = context.getValue(SPAN);
    const traceId = parent?.traceId ?? this.nextId().toString(16).padStart(32, "0");
    const span = new RecordingSpan(this, name, spanOptions, parent, traceId);
    this.spans.push(span);
    return { span, tracingContext: context.setValue(SPAN, span) };
  }
  withContext(_context, callback, ...args) {
    return callback(...args);
  }
  parseTraceparentHeader() {
    return undefined;
  }
  createRequestHeaders(context) {
    const span = context?.getValue(SPAN);
    return span ? { traceparent: span.traceparent, tracestate: `test=${span.spanId}` } : {};
  }
}

/** A context carrying a user's parent span, as `tracingOptions.tracingContext`. */
export function parentContext(instrumenter, name = "user.parent") {
  return instrumenter.startSpan(name, {}).tracingContext;
}
