// Every end-to-end scenario, in the order they run. To add one: create test/e2e/scenarios/<feature>.ts exporting a
// `Scenario` (see test/e2e/README.md), and append its import and its entry below (one line each).
import type { Scenario } from '../suite/scenario';
import { activationScenario } from './activation';
import {
  inlineFileGateScenario,
  inlineGhostTextScenario,
  inlineSecretFileScenario,
  inlineTypeThroughScenario,
} from './inline';
import { inlineMissPathScenario } from './inlineMissPath';
import {
  configBadEntryScenario,
  configSecretsScenario,
  configSimulatorOfferScenario,
  configSimulatorScenario,
  configWalkthroughScenario,
  configConfigureBackendsScenario,
} from './configSecrets';
import { configTrustScenario } from './configTrust';
import {
  costBudgetScenario,
  speedFallbackScenario,
  speedPanelScenario,
  speedProbeScenario,
  speedStatusBarScenario,
} from './speed';
import { routingFailoverScenario } from './routing';
import { repoAskScenario, repoRefactorScenario } from './routingRepo';
import {
  refactorAcceptUndoScenario,
  refactorCancelScenario,
  refactorCloseEditorScenario,
  refactorDisconnectScenario,
  refactorRejectScenario,
  refactorEnclosingFunctionScenario,
  refactorKeybindingScenario,
  refactorSaveScenario,
  refactorTypingScenario,
} from './refactor';
import { localEngineProbeScenario } from './localEngine';
import { nextEditScenario } from './nextEdit';

/** The scenarios the suite runs, in order. */
export const allScenarios: readonly Scenario[] = [
  activationScenario,
  configSimulatorOfferScenario,
  configSecretsScenario,
  configBadEntryScenario,
  configSimulatorScenario,
  configWalkthroughScenario,
  configConfigureBackendsScenario,
  configTrustScenario,
  speedStatusBarScenario,
  speedPanelScenario,
  speedProbeScenario,
  speedFallbackScenario,
  costBudgetScenario,
  ...[
    refactorAcceptUndoScenario,
    refactorRejectScenario,
    refactorCancelScenario,
    refactorDisconnectScenario,
    refactorTypingScenario,
    refactorSaveScenario,
    refactorEnclosingFunctionScenario,
    refactorKeybindingScenario,
    refactorCloseEditorScenario,
  ],
  ...[
    inlineGhostTextScenario,
    inlineTypeThroughScenario,
    inlineSecretFileScenario,
    inlineFileGateScenario,
    inlineMissPathScenario,
  ],
  routingFailoverScenario,
  ...[repoAskScenario, repoRefactorScenario],
  localEngineProbeScenario,
  nextEditScenario,
];
