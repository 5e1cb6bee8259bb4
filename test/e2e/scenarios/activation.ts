// The extension activates on startup, logs how long activation took, and the workbench shows a VS Code window.
import { strict as assert } from 'node:assert';
import type { Scenario } from '../suite/scenario';

/** Activation: the extension is active after startup and its log says "Activated in N ms". */
export const activationScenario: Scenario = {
  name: 'activation',
  async run(ctx) {
    // activationEvents is onStartupFinished: the extension activates by itself; wait for that instead of forcing it,
    // so that this scenario fails if the activation event stops firing.
    await ctx.waitFor('the extension to activate on startup', () => ctx.extension.isActive, { timeoutMs: 30_000 });

    const match = await ctx.waitForLog(/Activated in (\d+(?:\.\d+)?) ms/);
    const activationMs = Number(match[1]);
    assert.ok(
      Number.isFinite(activationMs) && activationMs >= 0,
      `activation time should be a number of ms, got "${match[1]}"`,
    );
    // Generous: activation does no I/O on the critical path; the bound only catches something badly wrong.
    assert.ok(activationMs < 5_000, `activation took ${activationMs} ms`);
    ctx.note(`activation took ${activationMs} ms (from the extension log ${await ctx.logFile()})`);

    // What a person sees: the workbench is drawn (status bar present) before the picture is taken.
    const statusBar = await ctx.uiQuery('.part.statusbar');
    if (statusBar.available) {
      await ctx.waitFor('the status bar to be drawn', async () => {
        const answer = await ctx.uiQuery('.part.statusbar');
        return answer.available && answer.value.some((element) => element.visible);
      });
      const shot = await ctx.screenshot('activation');
      assert.ok(shot.available, 'the screenshot should be taken when a UI bridge exists');
      ctx.note(`screenshot ${shot.value}`);
    } else {
      ctx.note(`UI checks skipped: ${statusBar.reason}`);
    }
  },
};
