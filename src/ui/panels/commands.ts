// What each keyboard or toolbar command does to the lab. Step instruction steps the selected vCPU.
import type { Lab } from '../store/lab';
import type { Command } from './shortcuts';

export function runCommand(lab: Lab, command: Command, openHelp: () => void): void {
  switch (command) {
    case 'step-instruction': return lab.step('instruction', lab.store.getState().selection.vcpu);
    case 'step-exit': return lab.step('exit');
    case 'step-frame': return lab.step('frame');
    case 'step-op': return lab.step('op');
    case 'run': return lab.run();
    case 'pause': return lab.pause();
    case 'reset': return lab.reset();
    case 'back': return lab.back();
    case 'goto-exit': return lab.goToExit();
    case 'help': return openHelp();
  }
}
