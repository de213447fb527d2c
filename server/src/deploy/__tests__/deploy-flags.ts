/** `cellgraph deploy render` flags (as commander hands them over) that use every option. */
export const allDeployFlags = {
  image: 'registry.example.com/cellgraph/server:1.0',
  store: 's3://cellgraph-prod/artifacts',
  databaseSecret: 'cg-db',
  tokenSecret: 'cg-api:api-token',
  s3Secret: 'cg-s3',
  s3Endpoint: 'http://minio.storage:9000',
  runNamespace: 'cellgraph-runs',
  workflowRepo: 'registry.example.com/cellgraph/workflows'
};
