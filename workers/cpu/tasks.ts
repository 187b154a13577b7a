// The piscina worker thread's entry: every CPU-heavy task a worker may hand off, by kind. Each kind's code lives in
// its own module; this file only dispatches, so adding a task is one import and one case.
import type { Task, TaskResult } from './pool.ts'

export default async function run (task: Task): Promise<TaskResult> {
  switch (task.kind) {
    case 'echo':
      return { kind: 'echo', value: task.value }
  }
}
