import { dumpYaml } from '@kubernetes/client-node';
import { type DeployManifests, manifestList } from './manifests';

/** The manifests as one multi-document YAML stream, for `kubectl apply -f -`. */
export function manifestsYaml(m: DeployManifests): string {
  return manifestList(m)
    .map((o) => dumpYaml(o))
    .join('---\n');
}

/** The manifests as a `v1` List, for `kubectl apply -f -` and tools that read JSON. */
export function manifestsJson(m: DeployManifests): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifestList(m) }, null, 2)}\n`;
}
