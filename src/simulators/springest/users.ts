/**
 * Who a certificate is for, when one arrives through the API or a control route: the host's user
 * with that email (case-insensitive), else the world person with that address (Springest learns of
 * them now), else a new user no world person has (`person_key` `new:<email>`).
 */
import type { World, WorldPerson } from '../common/world.ts';
import { employeeNumber } from './generate.ts';
import { addUser, emailKey, type SpringestHost } from './model.ts';

export interface SpringestUsers {
  /** User index for this email as given (a new user keeps the spelling it was given in). */
  forEmail(email: string): number;
  /** User index for a world person, or null when the key is unknown. */
  forPerson(personKey: string): number | null;
}

export function createSpringestUsers(world: World, host: SpringestHost): SpringestUsers {
  let worldByEmail: Map<string, WorldPerson> | null = null;
  const addPerson = (person: WorldPerson, email: string): number => addUser(host, { email, external_id: employeeNumber(person.index), personKey: person.key });
  return {
    forEmail(email) {
      const existing = host.userByEmail.get(emailKey(email));
      if (existing !== undefined) return existing;
      worldByEmail ??= new Map(world.people.map((p) => [emailKey(p.email), p]));
      const person = worldByEmail.get(emailKey(email));
      if (person) return host.userByPerson.get(person.key) ?? addPerson(person, email.trim());
      // Not an employee anyone knows: a fresh employee number outside the E-range of world people.
      return addUser(host, { email: email.trim(), external_id: `N${String(host.nextEmployeeNo++).padStart(6, '0')}`, personKey: `new:${emailKey(email)}` });
    },
    forPerson(personKey) {
      const existing = host.userByPerson.get(personKey);
      if (existing !== undefined) return existing;
      const person = /^p\d+$/.test(personKey) ? world.people[Number(personKey.slice(1))] : undefined;
      if (!person || person.key !== personKey) return null;
      return addPerson(person, world.emailFor(person, 'springest'));
    },
  };
}
