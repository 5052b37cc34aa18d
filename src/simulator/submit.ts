/**
 * The Entrance's submit and execute (LINKIS.md §2): body checks with Linkis's own messages
 * (CommonEntranceParser, LabelCheckInterceptor, release 1.8.0) and the job the Entrance creates.
 */
import type { JobStore } from './jobs';
import { error, ok, type Answer } from './wire';

type Result = { answer: Answer };

function answer(a: Answer): Result {
  return { answer: a };
}

export function parseBody(method: string, body: string): { value: Record<string, unknown> } | { fail: Result } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    return { fail: answer(error(method, `The request body is not valid JSON: ${(e as Error).message}`)) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { fail: answer(error(method, 'The request body must be a JSON object')) };
  }
  return { value: value as Record<string, unknown> };
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Linkis's UserCreatorLabel value is `user-creator`; the user is what precedes the first '-'. */
function splitUserCreator(v: string | null): { user: string; creator: string } | null {
  const dash = v ? v.indexOf('-') : -1;
  if (!v || dash <= 0 || dash === v.length - 1) return null;
  return { user: v.slice(0, dash), creator: v.slice(dash + 1) };
}

export function submit(s: { store: JobStore }, method: string, body: Record<string, unknown>, user: string): Result {
  const content = obj(body.executionContent);
  const labels = obj(body.labels);
  const code = typeof content.code === 'string' ? content.code : null;
  if (code === null) return answer(error(method, 'executionContent.code cannot be empty(executionContent.code不能为空)'));
  // LabelCheckInterceptor: both labels are required, and the label's user must be the executing user.
  const engineLabel = str(labels.engineType);
  if (!engineLabel) return answer(error(method, 'engineTypeLabel must be need'));
  const uc = splitUserCreator(str(labels.userCreator));
  if (!uc) return answer(error(method, 'UserCreatorLabel must be need'));
  if (uc.user.toLowerCase() !== user.toLowerCase()) {
    return answer(
      error(method, `SubmitUser : ${user} must be the same as ExecuteUser : ${user} , and user : ${uc.user} in userCreatorLabel.`),
    );
  }
  const job = s.store.create({
    user,
    creator: uc.creator,
    engineType: engineLabel.split('-')[0],
    code,
    runType: str(content.runType),
    api: 'submit',
    body,
    bodyExecuteUser: str(body.executeUser),
    bodyUserCreator: str(labels.userCreator),
  });
  return answer(ok(method, 'OK', { execID: job.execID, taskID: job.taskID }));
}

export function execute(s: { store: JobStore }, method: string, body: Record<string, unknown>, user: string): Result {
  const app = str(body.executeApplicationName);
  if (!app) return answer(error(method, 'executeApplicationName cannot be empty(executeApplicationName不能为空)'));
  const code = typeof body.executionCode === 'string' ? body.executionCode : null;
  if (code === null) return answer(error(method, 'executionCode cannot be empty(executionCode不能为空)'));
  const job = s.store.create({
    user,
    // 0.x clients that leave requestApplicationName out were IDE sessions.
    creator: str(body.requestApplicationName) ?? 'IDE',
    engineType: app,
    code,
    runType: str(body.runType),
    api: 'execute',
    body,
    bodyExecuteUser: str(body.executeUser),
    bodyUserCreator: null,
  });
  return answer(ok(method, 'OK', { execID: job.execID, taskID: job.taskID }));
}
