export { DeployOptions, SecretKeyRef, parseDeployOptions } from './options';
export { APP_NAME, DeployManifests, RUN_NAMESPACE_RULES, S3_SECRET_KEYS, SERVER_PORT, manifestList, renderManifests } from './manifests';
export { manifestsJson, manifestsYaml } from './render';
export { SERVER_IMAGE_USER, buildServerImage } from './server-image';
