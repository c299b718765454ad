/** One file an agent produced, before it is stored in S3. */
export interface GeneratedFile {
  path: string;
  content: string;
  /** What the agent says the file is (typescript, yaml, markdown, …); informative only. */
  language?: string;
}
