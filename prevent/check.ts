import type { RuleParameters } from '../rule/parameters.js';
import type { IacUserCandidate } from './candidate.js';
import { cloudFormationCandidates } from './cloudformation.js';
import { type IacFinding, judgeCandidates } from './judge.js';
import { type IacDocument, parseIacDocument } from './template-file.js';
import { terraformCandidates } from './terraform.js';

/**
 * Judges the IAM users of parsed infrastructure files (CloudFormation templates, CDK output, Terraform plans)
 * with the Config rule's verdict. Pure: the caller reads the files.
 */
export function checkDocuments(documents: readonly IacDocument[], params: RuleParameters): IacFinding[] {
  const candidates: IacUserCandidate[] = documents.flatMap((doc) =>
    doc.kind === 'cloudformation'
      ? cloudFormationCandidates(doc.file, doc.template, doc.lineOf)
      : terraformCandidates(doc.file, doc.plan, doc.source),
  );
  return judgeCandidates(candidates, params);
}

/** Parses and judges file contents given as (name, text) pairs; throws an InputError naming a file it cannot read. */
export function checkTexts(
  files: readonly { readonly file: string; readonly text: string }[],
  params: RuleParameters,
): IacFinding[] {
  return checkDocuments(
    files.map(({ file, text }) => parseIacDocument(file, text)),
    params,
  );
}

/** A note about a whole file (a module not followed, a nested stack not read), not about one user. */
export interface IacFileNote {
  readonly file: string;
  readonly note: string;
}

/** The findings of `checkDocuments`, and the notes the documents carry. */
export function checkDocumentsWithNotes(
  documents: readonly IacDocument[],
  params: RuleParameters,
): { findings: IacFinding[]; notes: IacFileNote[] } {
  const seen = new Set<string>();
  const notes = documents.flatMap((doc) =>
    (doc.notes ?? []).flatMap((note) => {
      const key = `${doc.file}\u0000${note}`;
      if (seen.has(key)) return [];
      seen.add(key);
      return [{ file: doc.file, note }];
    }),
  );
  return { findings: checkDocuments(documents, params), notes };
}
