import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, evaluate, loadCorpus, reviewDetector } from '../../bench/validation-corpus';

// The accuracy goal of the issue, enforced on the labelled corpus: recall ≥ 90 %, false positives ≤ 10 % per category.
describe('labelled corpus', () => {
  it('has at least 30 labelled files, vulnerable and clean, each present on disk', async () => {
    const corpus = await loadCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    expect(corpus.filter((file) => file.expected.length === 0).length).toBeGreaterThanOrEqual(10);
    for (const file of corpus) expect(existsSync(join(CORPUS_DIR, file.file))).toBe(true);
  });

  it('meets the accuracy goal in every category', async () => {
    const evaluation = await evaluate(await loadCorpus(), reviewDetector, 'review');
    for (const category of evaluation.categories) {
      expect({ category: category.category, recallOk: (category.recall ?? 1) >= 0.9 }).toEqual({
        category: category.category,
        recallOk: true,
      });
      expect({ category: category.category, fprOk: (category.falsePositiveRate ?? 0) <= 0.1 }).toEqual({
        category: category.category,
        fprOk: true,
      });
    }
  });
});
