'use strict';
/**
 * Portico's Node.js bootstrap: INIT once, then answer invocations until the host kills us.
 *
 * It speaks the Lambda Runtime API over HTTP to AWS_LAMBDA_RUNTIME_API and reproduces what
 * a function can observe of AWS's Node.js runtime (aws-lambda-nodejs-runtime-interface-client):
 * how `_HANDLER` is resolved, the `Runtime.*` error types and `{errorType, errorMessage, trace}`
 * documents, console log lines, `context`, callbacks and `callbackWaitsForEmptyEventLoop`.
 *
 *   INIT    load the handler ──failure──> POST /init/error, exit
 *   INVOKE  GET /next ─> handler(event, context, callback) ─> POST /response or /error ─┐
 *             ^────────────────────────────────────────────────────────────────────────┘
 *
 * Between a handler's end and the next GET /next nothing of ours is pending, so Node's
 * `beforeExit` marks "the event loop is empty", as it does on AWS.
 * Built-in modules only: nothing here may depend on the function's node_modules.
 */

const fs = require('fs');
const http = require('http');
const path = require('path');
const { Writable } = require('stream');
const { pathToFileURL } = require('url');
const util = require('util');

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const EXIT_ON_UNCAUGHT_EXCEPTION = 129;
const EXIT_ON_UNHANDLED_REJECTION = 128;
// Shared with libraries the way AWS's runtime shares them: through well-known symbols.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_RESPONSE = 'application/vnd.awslambda.http-integration-response';

// -- errors ------------------------------------------------------------------------------

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most ' +
        'commonly caused by a Promise that was never settled. For more information, see ' +
        'https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const RuntimeError of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  RuntimeError.prototype.name = `Runtime.${RuntimeError.name}`;
}

function looksLikeError(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.name === 'string' &&
    typeof value.message === 'string' &&
    typeof value.stack === 'string'
  );
}

/** The document posted to /error and /init/error. */
function errorDocument(error) {
  try {
    if (util.types.isNativeError(error) || looksLikeError(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one ' +
        'or more of its message, name, and stack',
    };
  }
}

function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const shown = { errorType: value.name, errorMessage: value.message, code: value.code, ...value };
  if (typeof value.stack === 'string') shown.stack = value.stack.split('\n');
  return shown;
}

/** An error as the text log shows it: a tab, then JSON (AWS keeps the tab for compatibility). */
function formatForLog(error) {
  try {
    return '\t' + JSON.stringify(error, (_key, value) => withEnumerableProperties(value));
  } catch {
    return '\t' + JSON.stringify(errorDocument(error));
  }
}

// -- logging -----------------------------------------------------------------------------

const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };

function jsonErrorReplacer(_key, value) {
  if (!(value instanceof Error)) return value;
  return {
    errorType: value.constructor?.name ?? 'UnknownError',
    errorMessage: value.message,
    stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    ...value,
  };
}

function textRecord(level, message, params) {
  const stamp = new Date().toISOString();
  return `${stamp}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(message, ...params)}`;
}

function jsonRecord(level, message, params) {
  const record = {
    timestamp: new Date().toISOString(),
    level,
    requestId: globalThis[REQUEST_ID],
  };
  if (params.length === 0) {
    record.message = message;
    try {
      return JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = util.format(message);
      return JSON.stringify(record);
    }
  }
  record.message = util.format(message, ...params);
  const error = params.find((param) => param instanceof Error);
  if (error !== undefined) {
    record.errorType = error.constructor?.name ?? 'UnknownError';
    record.errorMessage = error.message;
    record.stackTrace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
  }
  return JSON.stringify(record);
}

/**
 * Replace console's methods with one-record-per-call writers to stdout. Newlines become
 * carriage returns so that a multi-line message stays one log event, as on AWS.
 * Returns how the runtime logs an error it reports ('Invoke Error', 'Uncaught Exception').
 */
function patchConsole(format, threshold) {
  const json = (format || '').toUpperCase() === 'JSON';
  const render = json ? jsonRecord : textRecord;
  const minimum = LEVELS[(threshold || '').toUpperCase()] ?? LEVELS.TRACE;
  const writer = (level) => {
    if (LEVELS[level] < minimum) return () => {};
    return (message, ...params) => {
      process.stdout.write(render(level, message, params).replace(/\n/g, '\r') + '\n');
    };
  };
  console.trace = writer('TRACE');
  console.debug = writer('DEBUG');
  console.info = writer('INFO');
  console.log = console.info;
  console.warn = writer('WARN');
  console.error = writer('ERROR');
  console.fatal = (message, ...params) => {
    process.stdout.write(render('FATAL', message, params).replace(/\n/g, '\r') + '\n');
  };
  if (json) return (_label, error) => console.error(intoError(error));
  return (label, error) => console.error(label, formatForLog(intoError(error)));
}

// -- the Runtime API ---------------------------------------------------------------------

/** Header values may not hold control characters; Node refuses to send them. */
function headerSafe(value) {
  return String(value).replace(/[^\t\x20-\x7e\x80-\xff]/g, (c) => encodeURIComponent(c));
}

class RuntimeApi {
  constructor(address) {
    const colon = address.lastIndexOf(':');
    this.host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    this.port = Number(address.slice(colon + 1));
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  async next() {
    const reply = await this.request('GET', '/invocation/next');
    return { headers: reply.headers, body: reply.body.toString('utf8') };
  }

  respond(requestId, body, contentType = 'application/json') {
    const route = `/invocation/${encodeURIComponent(requestId)}/response`;
    return this.request('POST', route, body, { 'Content-Type': contentType });
  }

  fail(requestId, error) {
    return this.postError(`/invocation/${encodeURIComponent(requestId)}/error`, error);
  }

  initFailed(error) {
    return this.postError('/init/error', error);
  }

  postError(route, error) {
    const document = errorDocument(error);
    const headers = {
      'Content-Type': 'application/json',
      [ERROR_TYPE_HEADER]: headerSafe(document.errorType),
    };
    return this.request('POST', route, JSON.stringify(document), headers);
  }

  request(method, route, body = null, headers = {}) {
    return new Promise((resolve, reject) => {
      const send = (mayRetry) => {
        const options = {
          host: this.host,
          port: this.port,
          method,
          path: API_PREFIX + route,
          agent: this.agent,
          headers: body === null ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
        };
        const request = http.request(options, (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }),
          );
        });
        request.on('error', (error) => {
          // A kept-alive connection the server closed while idle: one fresh attempt.
          if (mayRetry && request.reusedSocket && error.code === 'ECONNRESET') send(false);
          else reject(error);
        });
        request.end(body === null ? undefined : body);
      };
      send(true);
    });
  }
}

// -- INIT: finding the handler -----------------------------------------------------------

function packageTypeIsModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const manifest = path.join(folder, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      const parsed = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      if (parsed) return parsed.type === 'module';
    } catch (error) {
      console.warn(
        `${manifest} cannot be read, it will be ignored for ES module detection purposes.`,
        error,
      );
      return false;
    }
  }
  const parent = path.dirname(folder);
  return parent === folder ? false : packageTypeIsModule(parent);
}

function importFile(file) {
  return import(pathToFileURL(file).href);
}

/** The order AWS's runtime tries: as named, .js (require, or import under "type": "module"),
 * .mjs, .cjs, then Node's own resolution from the task root (node_modules, NODE_PATH). */
async function findModule(taskRoot, moduleRoot, moduleName) {
  const file = path.resolve(taskRoot, moduleRoot, moduleName);
  if (fs.existsSync(file)) return require(file);
  const esm = packageTypeIsModule(path.dirname(file));
  if (fs.existsSync(`${file}.js`)) return esm ? importFile(`${file}.js`) : require(`${file}.js`);
  if (fs.existsSync(`${file}.mjs`)) return importFile(`${file}.mjs`);
  if (fs.existsSync(`${file}.cjs`)) return require(`${file}.cjs`);
  return require(require.resolve(moduleName, { paths: [taskRoot, moduleRoot] }));
}

async function loadModule(taskRoot, moduleRoot, moduleName) {
  try {
    return await findModule(taskRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UserCodeSyntaxError(error);
    if (error?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(error);
    throw error;
  }
}

/** `_HANDLER` is `[dir/]module.property[.property...]`, relative to the task root. */
async function loadHandler(taskRoot, spec) {
  if (spec.includes('..')) {
    throw new MalformedHandlerName(
      `'${spec}' is not a valid handler name. Use absolute paths when specifying root ` +
        'directories in handler names.',
    );
  }
  const base = path.basename(spec);
  const moduleRoot = spec.slice(0, spec.indexOf(base));
  const match = /^([^.]*)\.(.*)$/.exec(base);
  if (match === null) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, property] = match;
  const userModule = await loadModule(taskRoot, moduleRoot, moduleName);
  const handler = property.split('.').reduce((value, key) => value && value[key], userModule);
  if (!handler) throw new HandlerNotFound(`${spec} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${spec} is not a function`);
  return handler;
}

// -- response streaming, buffered ---------------------------------------------------------

function installGlobalAwsLambda() {
  const flag = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (flag === '1' || flag === 'true') return;
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') {
        handler[HIGH_WATER_MARK] = parseInt(options.highWaterMark, 10);
      }
      return handler;
    },
    HttpResponseStream: {
      from(stream, prelude) {
        stream.setContentType(HTTP_INTEGRATION_RESPONSE);
        stream.write(JSON.stringify(prelude));
        stream.write(new Uint8Array(8));
        return stream;
      },
    },
  };
}

function isStreaming(handler) {
  const mode = handler[STREAMING];
  if (mode === undefined || mode === null || mode === false) return false;
  if (mode !== STREAM_RESPONSE) {
    throw new MalformedStreamingHandler('Only response streaming is supported.');
  }
  return true;
}

/** Portico's Runtime API has no streamed responses: collect the stream, post it whole. */
function bufferedResponseStream(highWaterMark) {
  const chunks = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  stream.contentType = 'application/octet-stream';
  stream.setContentType = (type) => {
    stream.contentType = type;
  };
  stream.body = () => Buffer.concat(chunks);
  return stream;
}

// -- INVOKE ------------------------------------------------------------------------------

function isPromise(value) {
  return Boolean(value) && typeof value.then === 'function';
}

function parseJsonHeader(raw, name) {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error.toString()}`);
  }
}

function serializeResult(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error('Unable to stringify response body');
  }
}

/**
 * One invocation's ending. The first call of callback/done/succeed/fail (or the handler's
 * promise settling) wins; `callback` with `callbackWaitsForEmptyEventLoop` (the default)
 * answers only once the event loop is empty.
 */
class Completion {
  constructor(runtime, requestId) {
    this.runtime = runtime;
    this.requestId = requestId;
    this.finished = false;
    this.reported = false;
    this.waitsForEmptyEventLoop = true;
  }

  firstCallOnly(action) {
    return (...args) => {
      if (this.finished) return;
      action(...args);
      this.finished = true;
    };
  }

  callback(error, result) {
    this.runtime.onEmptyEventLoop = null;
    if (error !== undefined && error !== null) this.postError(error);
    else if (!this.waitsForEmptyEventLoop) this.complete(result);
    else this.runtime.onEmptyEventLoop = () => setImmediate(() => this.complete(result));
  }

  done(error, result) {
    this.runtime.onEmptyEventLoop = null;
    if (error !== undefined && error !== null) this.postError(error);
    else this.complete(result);
  }

  complete(result) {
    if (this.reported) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    this.reported = true;
    this.runtime.respond(this.requestId, serializeResult(result));
  }

  postError(error) {
    this.runtime.logError('Invoke Error', error);
    this.runtime.fail(this.requestId, error);
  }

  /** The `context` fields that end the invocation: succeed/fail/done and the loop flag. */
  controls() {
    const completion = this;
    return {
      get callbackWaitsForEmptyEventLoop() {
        return completion.waitsForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        completion.waitsForEmptyEventLoop = value;
      },
      succeed: this.firstCallOnly((result) => this.done(null, result)),
      fail: this.firstCallOnly((error) =>
        error === undefined || error === null ? this.done('handled') : this.done(error, null),
      ),
      done: this.firstCallOnly((error, result) => this.done(error, result)),
    };
  }
}

function buildContext(headers, controls) {
  const env = process.env;
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return Object.assign(controls, {
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  });
}

class Runtime {
  constructor(api, logError) {
    this.api = api;
    this.logError = logError;
    this.handler = null;
    this.requestId = null; // the invocation errors escaping the handler belong to
    this.onEmptyEventLoop = null;
  }

  /** Errors that escape the handler end the process, as on AWS, after reporting them. */
  installProcessHooks() {
    process.on('uncaughtException', (error) => {
      this.logError('Uncaught Exception', error);
      this.reportFatal(error, EXIT_ON_UNCAUGHT_EXCEPTION);
    });
    process.on('unhandledRejection', (reason, promise) => {
      const error = new UnhandledPromiseRejection(reason, promise);
      this.logError('Unhandled Promise Rejection', error);
      this.reportFatal(error, EXIT_ON_UNHANDLED_REJECTION);
    });
    process.on('beforeExit', () => {
      const action = this.onEmptyEventLoop;
      this.onEmptyEventLoop = null;
      if (action !== null) action();
    });
  }

  reportFatal(error, code) {
    const posted =
      this.requestId === null ? this.api.initFailed(error) : this.api.fail(this.requestId, error);
    posted.then(
      () => process.exit(code),
      () => process.exit(code),
    );
  }

  async init(taskRoot, spec) {
    installGlobalAwsLambda();
    try {
      this.handler = await loadHandler(taskRoot, spec);
      this.streaming = isStreaming(this.handler);
    } catch (error) {
      this.logError('Uncaught Exception', error);
      await this.api.initFailed(error).catch(() => {});
      process.exit(EXIT_ON_UNCAUGHT_EXCEPTION);
    }
    this.isAsync = this.handler.constructor?.name === 'AsyncFunction';
    this.highWaterMark = this.handler[HIGH_WATER_MARK];
    this.scheduleNext();
  }

  scheduleNext() {
    setImmediate(() => this.handleNext().catch((error) => this.transportFailed(error)));
  }

  transportFailed(error) {
    process.stderr.write(`portico bootstrap: the Runtime API failed: ${error.stack || error}\n`);
    process.exit(1);
  }

  respond(requestId, body, contentType) {
    this.api.respond(requestId, body, contentType).then(
      () => this.scheduleNext(),
      (error) => this.transportFailed(error),
    );
  }

  fail(requestId, error) {
    this.api.fail(requestId, error).then(
      () => this.scheduleNext(),
      (failure) => this.transportFailed(failure),
    );
  }

  async handleNext() {
    const { headers, body } = await this.api.next();
    const requestId = headers['lambda-runtime-aws-request-id'];
    this.requestId = requestId;
    globalThis[REQUEST_ID] = requestId;
    setTraceId(headers['lambda-runtime-trace-id']);
    const completion = new Completion(this, requestId);
    if (this.streaming) return this.invokeStreaming(completion, headers, body);
    return this.invoke(completion, headers, body);
  }

  invoke(completion, headers, body) {
    const callback = completion.firstCallOnly((error, result) => completion.callback(error, result));
    const controls = completion.controls();
    try {
      // If the loop empties before anything answered: an async handler's promise can no
      // longer settle; a callback handler that never called back answers null.
      this.onEmptyEventLoop = () => {
        completion.reported = true;
        if (this.isAsync) completion.postError(new NodeJsExit());
        else this.respond(completion.requestId, 'null');
      };
      const result = this.handler(JSON.parse(body), buildContext(headers, controls), callback);
      if (isPromise(result)) result.then(controls.succeed, controls.fail).catch(controls.fail);
    } catch (error) {
      callback(error);
    }
  }

  async invokeStreaming(completion, headers, body) {
    const stream = bufferedResponseStream(this.highWaterMark);
    const fail = (error) => {
      completion.reported = true;
      completion.postError(error);
    };
    this.onEmptyEventLoop = () => this.scheduleNext();
    try {
      const context = buildContext(headers, completion.controls());
      const pending = this.handler(JSON.parse(body), stream, context);
      if (!isPromise(pending)) return fail('Streaming does not support non-async handlers.');
      if ((await pending) !== undefined) console.warn('Streaming handlers ignore return values.');
      if (stream.writableEnded && !stream.writableFinished) {
        await new Promise((resolve) => stream.once('finish', resolve));
      }
      this.onEmptyEventLoop = null;
      if (!stream.writableFinished) return fail('Response stream is not finished.');
      completion.reported = true;
      this.respond(completion.requestId, stream.body(), stream.contentType);
    } catch (error) {
      this.onEmptyEventLoop = null;
      fail(error);
    }
  }
}

// -- the trace id ------------------------------------------------------------------------

const TRACE_VARIABLE = '_X_AMZN_TRACE_ID';

/**
 * `process.env` with `_X_AMZN_TRACE_ID` held in JavaScript; returns its setter.
 *
 * Every invocation has its own trace id. Setting it in the real environment calls setenv(),
 * and glibc keeps a copy of every value setenv() was ever given (it cannot tell whether anyone
 * still points at one): about 160 bytes per invocation, until the environment is killed at
 * its memory size. So `process.env` becomes a view of the real environment in which this one
 * variable lives in a JavaScript string. Reads, writes, deletes, `in` and key listings behave
 * as before, and child processes, which take their variables from `process.env`, get it too.
 * Native code that calls getenv() directly does not see it.
 */
function holdTraceIdInJavaScript() {
  const real = process.env;
  let traceId = real[TRACE_VARIABLE];
  delete real[TRACE_VARIABLE];
  const isTrace = (key) => key === TRACE_VARIABLE;
  process.env = new Proxy(real, {
    get: (target, key) => (isTrace(key) ? traceId : Reflect.get(target, key)),
    set(target, key, value) {
      if (!isTrace(key)) return Reflect.set(target, key, value);
      traceId = `${value}`; // as the real environment stores it: a string
      return true;
    },
    has: (target, key) => (isTrace(key) ? traceId !== undefined : Reflect.has(target, key)),
    deleteProperty(target, key) {
      if (!isTrace(key)) return Reflect.deleteProperty(target, key);
      traceId = undefined;
      return true;
    },
    ownKeys(target) {
      // Without it even if native code set it in the real environment: a key listed twice
      // would make every listing throw.
      const keys = Reflect.ownKeys(target).filter((key) => !isTrace(key));
      return traceId === undefined ? keys : [...keys, TRACE_VARIABLE];
    },
    getOwnPropertyDescriptor(target, key) {
      if (!isTrace(key)) return Reflect.getOwnPropertyDescriptor(target, key);
      if (traceId === undefined) return undefined;
      return { value: traceId, writable: true, enumerable: true, configurable: true };
    },
    defineProperty(target, key, descriptor) {
      if (!isTrace(key)) return Reflect.defineProperty(target, key, descriptor);
      if (!('value' in descriptor)) throw new TypeError("'process.env' only accepts a value");
      traceId = `${descriptor.value}`;
      return true;
    },
  });
  return (value) => {
    traceId = value || undefined;
  };
}

const setTraceId = holdTraceIdInJavaScript();

function main() {
  const env = process.env;
  const logError = patchConsole(env.AWS_LAMBDA_LOG_FORMAT, env.AWS_LAMBDA_LOG_LEVEL);
  const runtime = new Runtime(new RuntimeApi(env.AWS_LAMBDA_RUNTIME_API || ''), logError);
  runtime.installProcessHooks();
  runtime.init(env.LAMBDA_TASK_ROOT || process.cwd(), env._HANDLER || '');
}

main();
