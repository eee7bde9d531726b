import { App } from 'aws-cdk-lib';
import { buildApp } from './app.js';

// The CDK CLI sets CDK_DEFAULT_ACCOUNT/REGION from the current credentials and profile. Without them (a
// clean clone, offline) the stacks are environment-agnostic and the Region is chosen at deploy time.
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
buildApp({
  app: new App(),
  ...(account !== undefined || region !== undefined ? { env: { account, region } } : {}),
});
