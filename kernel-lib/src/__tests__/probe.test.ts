import * as vm from 'node:vm';
import { runTask } from '../runner/run-task';
it('probe', async () => {
  const f = vm.runInThisContext('(function(){ return { o: {}, m: new Map(), g: globalThis } })') as () => any;
  const r = f();
  console.log(Object.getPrototypeOf(r.o) === Object.prototype, r.m instanceof Map, r.g === globalThis);
  expect(typeof runTask).toBe('function');
});
