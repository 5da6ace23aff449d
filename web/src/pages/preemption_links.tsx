// On a job's page: the jobs that preempted it and the jobs it preempted (the job object's
// preempted_by_jobs and victims), each a link to that job's page. Nothing when there are none.
import type { T } from "../main";

export function PreemptionLinks({ t, job }: { t: T; job: { preempted_by_jobs?: number[]; victims?: number[] } }) {
  const by = job.preempted_by_jobs ?? [], victims = job.victims ?? [];
  if (by.length === 0 && victims.length === 0) return null;
  const links = (ids: number[]) => ids.map((id, i) => <>{i > 0 ? ", " : ""}<a href={`#/jobs/${id}`}>{t("job_title", { id })}</a></>);
  return (
    <>
      <h3>{t("j_preemptions")}</h3>
      <ul data-testid="preemption-links">
        {by.length > 0 && <li data-testid="preempted-by">{t("j_preempted_by")} {links(by)}</li>}
        {victims.length > 0 && <li data-testid="victims">{t("j_victims")} {links(victims)}</li>}
      </ul>
    </>
  );
}
