import { readFileSync, writeFileSync } from 'node:fs';
import { Option } from 'commander';
import { designAccount } from '../remediation/design/account-design.js';
import {
  defaultQuotasFor,
  IAM_DEFAULT_QUOTAS,
  parseAuthorizationDetails,
} from '../remediation/design/authorization-details-file.js';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { renderCloudFormation } from '../remediation/design/render-cloudformation.js';
import { renderHtml } from '../remediation/design/render-html.js';
import { renderTerraform } from '../remediation/design/render-terraform.js';
import { exemptionOfUser } from '../remediation/migrate.js';
import { readAccountSnapshot, readIamQuotas } from '../remediation/read-state.js';
import type { UserState } from '../remediation/state.js';
import type { RuleParameters } from '../rule/parameters.js';
import type { Exemption } from '../rule/verdict.js';
import { type CliCommand, EXIT_CODE, UsageError } from './command.js';
import { UnknownUserError } from './errors.js';
import { reportReadProgress } from './progress.js';
import {
  addRuleParameterOptions,
  type RuleParameterFlags,
  ruleParametersFrom,
} from './rule-parameter-options.js';
import { paint, renderTable } from './table.js';

/**
 * How `plan` shows a design on stdout, by --format. Each renderer is a pure function of the plan
 * (remediation/design/render-*.ts); to add a format, add an entry here. Whatever stdout shows, --out still
 * writes the plan JSON, because that file is what `apply` reads and where groups are renamed.
 */
export const PLAN_RENDERERS: Readonly<Record<string, (plan: DesignPlan, colour: boolean) => string>> = {
  table: (plan, colour) => renderPlanTable(plan, colour),
  json: (plan) => `${JSON.stringify(plan, null, 2)}\n`,
  // A self-contained page (no script, no fetch): `plan --format html > design.html` for reviewers.
  html: (plan) => renderHtml(plan),
  terraform: (plan) => renderTerraform(plan),
  cloudformation: (plan) => renderCloudFormation(plan),
};

interface PlanOptions extends RuleParameterFlags {
  readonly input?: string;
  readonly users?: string;
  readonly pathPrefix?: string;
  readonly joinableGroups?: string;
  readonly quotas: 'default' | 'unlimited';
  readonly format: string;
  readonly out?: string;
}

const commaList = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

/**
 * `plan`: designs groups for the whole account at once (remediation/design/account-design.ts) and writes the
 * plan file `apply` reads; changes nothing. Reads the account once (GetAccountAuthorizationDetails and
 * GetAccountSummary), or a saved `aws iam get-account-authorization-details` answer with --input, so a
 * design can be made without credentials for the account.
 *
 * Exit codes: 0 a plan for every selected user that carries policies directly; 1 a plan was made but some
 * of those users are in no exact design within the quotas (they stay NON_COMPLIANT; the plan says why);
 * 2 the command could not run (bad input file, unknown user or group, bad flag, credentials, access).
 */
export const planCommand: CliCommand = (program, bind) => {
  const command = program
    .command('plan')
    .description(
      'Design groups for every IAM user that carries policies directly, account-wide, without changing what anyone can do; writes the plan `apply` takes (read-only).',
    )
    .option(
      '--input <file>',
      'design offline from the JSON `aws iam get-account-authorization-details` prints',
    )
    .option('--users <names>', 'only these users (comma-separated)')
    .option('--path-prefix <path>', 'only users whose IAM path starts with this, e.g. /engineering/')
    .option(
      '--joinable-groups <names>',
      'existing groups (outside /policy-migration/) users may join as they are (comma-separated)',
    )
    .addOption(
      new Option('--quotas <mode>', 'IAM quotas: the account’s, or none (to see the ideal design)')
        .choices(['default', 'unlimited'])
        .default('default'),
    )
    .addOption(
      new Option('--format <format>', 'what stdout shows')
        .choices(Object.keys(PLAN_RENDERERS))
        .default('table'),
    )
    .option('--out <file>', 'write the plan (JSON, what `apply` reads) to this file');
  addRuleParameterOptions(command).action(
    bind<PlanOptions>(async (options, _args, { io, aws }) => {
      // Every flag is checked before the account is read: a typo must not cost a read of 5,000 users.
      const params = ruleParametersFrom(options);
      const pathPrefix = options.pathPrefix;
      if (pathPrefix !== undefined && !/^\/([\x21-\x7e]*\/)?$/.test(pathPrefix)) {
        throw new UsageError(
          `--path-prefix ${pathPrefix}: an IAM path starts and ends with "/", e.g. /engineering/`,
        );
      }
      const users = commaList(options.users);
      const joinableGroups = commaList(options.joinableGroups);
      const renderer = PLAN_RENDERERS[options.format];
      if (renderer === undefined)
        throw new UsageError(
          `--format ${options.format} is not one of ${Object.keys(PLAN_RENDERERS).join(', ')}`,
        );

      let snapshot: ReturnType<typeof parseAuthorizationDetails>;
      let quotas: Awaited<ReturnType<typeof readIamQuotas>>;
      let where: string;
      if (options.input !== undefined) {
        let text: string;
        try {
          text = readFileSync(options.input, 'utf8');
        } catch (error) {
          throw new UsageError(
            `cannot read --input ${options.input}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          );
        }
        snapshot = parseAuthorizationDetails(text, options.input);
        quotas = defaultQuotasFor(snapshot);
        where = `in ${options.input}`;
        // The table says so itself; other formats keep stdout machine-readable.
        if (options.format !== 'table')
          io.err(
            `Quotas: IAM's defaults (${IAM_DEFAULT_QUOTAS.attachedPoliciesPerGroup} policies per group, ${IAM_DEFAULT_QUOTAS.groupsPerUser} groups per user, ${IAM_DEFAULT_QUOTAS.policySize} characters per policy, ${IAM_DEFAULT_QUOTAS.groupsQuota} groups, ${IAM_DEFAULT_QUOTAS.policiesQuota} policies): ${options.input} does not carry the account's own (GetAccountSummary).\n`,
          );
      } else {
        const iam = aws.iam();
        reportReadProgress(iam, io.err);
        [snapshot, quotas] = await Promise.all([readAccountSnapshot(iam), readIamQuotas(iam)]);
        where = 'in this account';
      }

      for (const name of users ?? []) {
        if (!snapshot.users.some((u) => u.userName.toLowerCase() === name.toLowerCase())) {
          throw new UnknownUserError(`there is no IAM user named ${name} ${where}`);
        }
      }
      for (const name of joinableGroups ?? []) {
        if (!snapshot.groups.some((g) => g.groupName.toLowerCase() === name.toLowerCase())) {
          throw new UsageError(`--joinable-groups: there is no IAM group named ${name} ${where}`);
        }
      }

      const plan = designAccount(snapshot, quotas, {
        ...(users !== undefined ? { users } : {}),
        ...(pathPrefix !== undefined ? { pathPrefix } : {}),
        ...(joinableGroups !== undefined ? { joinableGroups } : {}),
        exemptUser: (user) => exemptionOf(user, params),
        quotas: options.quotas,
        quotasSource: options.input !== undefined ? 'iam-defaults' : 'account',
        createdAt: new Date().toISOString(),
      });
      if (options.out !== undefined) {
        try {
          writeFileSync(options.out, `${JSON.stringify(plan, null, 2)}\n`);
        } catch (error) {
          throw new UsageError(
            `cannot write --out ${options.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          );
        }
      }
      io.out(renderer(plan, io.colour));
      if (options.format !== 'table') io.err(`${summaryLine(plan)}\n`);
      if (options.out !== undefined)
        io.err(`Plan written to ${options.out}; new group names may be edited there before apply.\n`);
      return plan.skipped.some(
        (s) => !s.reason.startsWith('exempt:') && s.reason !== 'carries no policy directly',
      )
        ? EXIT_CODE.nonCompliant
        : EXIT_CODE.ok;
    }),
  );
};

/**
 * The rule's own exemption decision (rule/verdict.ts), as a reason for the plan's skipped list; undefined
 * when the rule does not exempt the user. Shared with the local run, so its design skips whom `plan` skips.
 */
export function exemptionOf(user: UserState, params: RuleParameters): string | undefined {
  const exemption = exemptionOfUser(user, params);
  return exemption !== undefined ? describeExemption(exemption) : undefined;
}

function describeExemption(e: Exemption): string {
  switch (e.kind) {
    case 'user-name':
      return 'user name listed in exemptUserNames';
    case 'path':
      return `path matches exemptPathPrefixes ${e.prefix}`;
    case 'tag':
      return `tag ${e.tagKey}: ${e.reason}`;
    case 'ses-smtp-user':
      return 'Amazon SES SMTP credential user (exemptSesSmtpUsers)';
    case 'suppressed':
      return `suppressed by ${e.by}`;
  }
}

/** One line of before/after counts. */
export function summaryLine(plan: DesignPlan): string {
  const { before, after, newGroups } = plan.summary;
  return `${plan.users.length} users changed, ${newGroups} new groups, ${plan.skipped.length} skipped. Groups ${before.groups} -> ${after.groups}, memberships ${before.memberships} -> ${after.memberships}, direct policies ${before.directPolicies} -> ${after.directPolicies}.`;
}

/** The plan for people: each group with its policies and members, then the counts, rewrites, skipped users. */
export function renderPlanTable(plan: DesignPlan, colour: boolean): string {
  const policyName = (ref: string) => {
    const p = plan.policies[ref];
    if (p?.kind !== 'new-managed') return p?.policyName ?? ref;
    // A hash says nothing to a reviewer: show the inline policy names it is made from.
    const from = [...new Set((p.replaces ?? []).map((r) => r.policyName))].sort();
    return from.length > 0 ? `${p.policyName} (new, from ${from.join(', ')})` : `${p.policyName} (new)`;
  };
  const rows = plan.groups.map((g) => [
    g.name,
    g.status,
    g.policies.map(policyName).join(', '),
    `${g.members.length}: ${g.members.join(', ')}`,
  ]);
  const parts = [
    `${paint('Group design', 'bold', colour)} for account ${plan.accountId}: ${plan.summary.newGroups} new groups, ${plan.groups.length - plan.summary.newGroups} existing groups joined. Nothing changed.\n`,
  ];
  if (rows.length > 0) {
    parts.push(
      renderTable(
        [
          { heading: 'GROUP' },
          { heading: 'STATUS', style: (c) => (c === 'new' ? 'green' : 'cyan') },
          { heading: 'POLICIES' },
          { heading: 'MEMBERS' },
        ],
        rows,
        colour,
      ),
    );
  }
  if (plan.quotas?.source === 'iam-defaults') {
    parts.push(
      `Quotas: IAM's defaults (${plan.quotas.attachedPoliciesPerGroup} policies per group, ${plan.quotas.groupsPerUser} groups per user): the input file does not carry the account's own.\n`,
    );
  } else if (plan.quotas?.source === 'unlimited') {
    parts.push('Quotas: none (--quotas unlimited): the ideal design, which IAM may not accept.\n');
  }
  const { before, after } = plan.summary;
  parts.push(
    renderTable(
      [{ heading: '' }, { heading: 'BEFORE' }, { heading: 'AFTER' }],
      [
        ['groups', String(before.groups), String(after.groups)],
        ['memberships', String(before.memberships), String(after.memberships)],
        ['direct policies', String(before.directPolicies), String(after.directPolicies)],
      ],
      colour,
    ),
  );
  for (const r of plan.rewrites) {
    parts.push(
      `${policyName(r.policy)} uses \${aws:username} and replaces ${r.replaces.length} inline policies: ${r.replaces.map((p) => `${p.userName}/${p.policyName}`).join(', ')}\n`,
    );
  }
  for (const s of plan.skipped)
    parts.push(`${paint('Skipped', 'yellow', colour)} ${s.userName}: ${s.reason}\n`);
  for (const w of plan.warnings ?? []) parts.push(`${paint('Warning', 'red', colour)}: ${w}\n`);
  return parts.join('');
}
